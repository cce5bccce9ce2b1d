import type { Client } from '../clients/types.js'
import type { ActivityLog } from '../activity/recorder.js'
import type { Config } from '../config.js'
import type { Db } from '../db/connection.js'
import type { KeyRing } from '../keys/signing-keys.js'
import { hashSecret } from '../crypto/random.js'
import { findAccessToken, findRefreshTokenForRotation, revokeAccessToken, revokeGrants } from '../db/tokens.js'
import { verifyAccessTokenSignature } from '../tokens/access-token.js'
import { requiredParam, type RawParams } from '../protocol/params.js'
import { tokenKind } from '../protocol/token-kind.js'
import { familiesRevoked } from '../observability/metrics.js'

export interface RevocationDeps {
  db: Db
  keyRing: KeyRing
  config: Pick<Config, 'issuer'>
  activity: ActivityLog
  clock: () => number
}

/**
 * RFC 7009 §2.1: revokes a token the calling client holds. Revoking a
 * refresh token ends its whole grant, access tokens included. Unknown tokens
 * and other clients' tokens are answered the same way, and left alone.
 */
export async function revokeToken(ctx: RevocationDeps, caller: Client, params: RawParams): Promise<void> {
  const token = requiredParam(params, 'token')
  const now = ctx.clock()
  const kind = tokenKind(token)
  // A personal access token belongs to no client; its user deletes it on the portal.
  if (kind === 'personal_access_token') return
  if (kind === 'oauth_access_token') {
    // An expired token may still be revoked; only the signature matters here.
    const signature = await verifyAccessTokenSignature(ctx.keyRing, ctx.config.issuer, token, 'any time')
    if (!signature.ok) return
    const row = await findAccessToken(ctx.db.kysely, signature.claims.jti)
    if (row && row.clientId === caller.id) {
      await revokeAccessToken(ctx.db.kysely, row.jti, now)
      ctx.activity.record({
        action: 'token.revoked',
        teamId: row.teamId,
        userId: row.userId,
        clientId: caller.id,
        detail: 'access token revoked by the client',
      })
    }
    return
  }
  // The token with its grant in one read: whose it is goes into the activity log.
  const held = await findRefreshTokenForRotation(ctx.db.kysely, hashSecret(token))
  if (held && held.refresh.clientId === caller.id) {
    await ctx.db.kysely.transaction().execute((trx) => revokeGrants(trx, { grantId: held.refresh.grantId }, now))
    familiesRevoked.revocation.inc()
    ctx.activity.record({
      action: 'token.revoked',
      teamId: held.grant.teamId,
      userId: held.grant.userId,
      clientId: caller.id,
      detail: 'refresh token and its grant revoked by the client',
    })
  }
}
