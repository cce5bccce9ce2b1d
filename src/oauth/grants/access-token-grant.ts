import { randomUUID } from 'node:crypto'
import type { Executor } from '../../db/executor.js'
import { insertAccessToken, insertGrant } from '../../db/tokens.js'
import { formatScopes } from '../../protocol/scopes.js'
import { formatResources } from '../../resources/resources.js'
import { mintTokens } from '../../tokens/issue.js'
import type { GrantDeps } from './deps.js'

/** RFC 6749 §4.4.3: no refresh token; the client asks again. */
export interface AccessTokenResponse {
  token_type: 'Bearer'
  expires_in: number
  access_token: string
  scope?: string
}

/** Whom the token acts for, in which team, with what scopes, for which resources (RFC 8707; none: the client itself). */
export interface AccessTokenHolder {
  clientId: string
  userId: number
  teamId: number
  scopes: string[]
  audience: string[]
}

/**
 * A new grant with an access token alone: no refresh token, and no ID token
 * since no one signed in here. `writeAlongside` adds its writes to the
 * transaction that makes the grant and its token valid.
 */
export async function grantAccessToken(
  ctx: GrantDeps,
  holder: AccessTokenHolder,
  writeAlongside?: (trx: Executor, now: number) => Promise<void>,
): Promise<AccessTokenResponse> {
  const { clientId, userId, teamId, scopes, audience } = holder
  const now = ctx.clock()
  const grantId = randomUUID()
  const minted = await mintTokens(ctx, { grantId, clientId, userId, teamId, scopes, resources: audience })
  await ctx.db.kysely.transaction().execute(async (trx) => {
    await insertGrant(trx, {
      id: grantId,
      clientId,
      userId,
      teamId,
      scopes: formatScopes(scopes),
      resources: formatResources(audience),
      createdAt: now,
    })
    await writeAlongside?.(trx, now)
    await insertAccessToken(trx, minted.rows.access)
  })
  const { refresh_token: _none, id_token: _noIdToken, ...response } = minted.response
  return response
}
