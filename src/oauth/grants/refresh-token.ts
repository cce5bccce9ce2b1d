import type { Client } from '../../clients/types.js'
import { hashSecret } from '../../crypto/random.js'
import { rotateRefreshToken } from '../../db/issuance.js'
import { findRefreshTokenForRotation } from '../../db/tokens.js'
import { mintTokens, type TokenResponse } from '../../tokens/issue.js'
import { InvalidGrant, InvalidScope } from '../../protocol/errors.js'
import type { GrantDeps } from './deps.js'
import { param, requiredParam, type RawParams } from '../../protocol/params.js'
import { answerReplay } from '../replay.js'
import { coversScopes, parseScope, splitScopes } from '../../protocol/scopes.js'
import { splitResources } from '../../resources/resources.js'
import { tokenAudience } from './audience.js'
import { assertUserMayHoldTokens, idTokenSigner, refreshTokenLiveness } from './token-holder.js'

const INVALID_REFRESH = 'The refresh token is invalid, expired, revoked, or was already used.'

/**
 * RFC 6749 §6 with rotation: each refresh token works once; using it ends it
 * and the access token issued with it at once (RFC 9700 §4.14.2).
 * `redirect_uri`, which some clients send with a refresh, is accepted and not needed.
 */
export async function refreshTokenGrant(ctx: GrantDeps, client: Client, params: RawParams, address: string): Promise<TokenResponse> {
  const tokenHash = hashSecret(requiredParam(params, 'refresh_token'))
  const requestedScope = param(params, 'scope')
  const now = ctx.clock()

  const found = await findRefreshTokenForRotation(ctx.db.kysely, tokenHash)
  if (!found || found.refresh.clientId !== client.id) throw new InvalidGrant(INVALID_REFRESH)
  const { refresh: row, grant, standing } = found
  const replayed = () =>
    answerReplay(
      ctx,
      { kind: 'refresh_token', grantId: grant.id, clientId: client.id, userId: grant.userId, teamId: grant.teamId, address },
      INVALID_REFRESH,
      now,
    )
  const liveness = refreshTokenLiveness(found, now)
  if (liveness === 'used') throw await replayed()
  if (liveness === 'ended') throw new InvalidGrant(INVALID_REFRESH)
  assertUserMayHoldTokens(standing)

  const granted = splitScopes(grant.scopes)
  const requested = parseScope(requestedScope, granted)
  // RFC 6749 §6: no scope means the scope originally granted. An empty scope= is
  // read the same way: a token without scopes has all of the user's permissions.
  const scopes = requested.length === 0 ? granted : requested
  // RFC 6749 §6: a refresh may narrow the scope, never widen it; a grant of all permissions covers any scope.
  if (granted.length > 0 && !coversScopes(granted, scopes)) throw new InvalidScope('The requested scope exceeds the scope originally granted.')

  // The audience survives rotation: it comes from the grant, narrowed by `resource` if the request names some.
  const resources = await tokenAudience(ctx, splitResources(grant.resources), params)
  // OpenID Connect Core §12.2: a new ID token for the same login, without the nonce.
  const idToken = idTokenSigner(
    ctx,
    { user: found.user, clientId: client.id, algorithm: client.idTokenSignedResponseAlg, teamId: grant.teamId, login: grant.login },
    scopes,
    false,
  )
  const minted = await mintTokens(
    ctx,
    { grantId: grant.id, clientId: client.id, userId: grant.userId, teamId: grant.teamId, scopes, resources, login: grant.login },
    idToken,
  )
  const rotated = await rotateRefreshToken(ctx.db, { tokenHash, accessTokenJti: row.accessTokenJti }, minted.rows, now)
  if (!rotated) throw await replayed()
  ctx.activity.record({ action: 'token.refreshed', teamId: grant.teamId, userId: grant.userId, clientId: client.id, address })
  return minted.response
}
