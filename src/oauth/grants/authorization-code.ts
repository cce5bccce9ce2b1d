import { redirectUriMatchesCode } from '../../clients/redirect-uris.js'
import type { Client } from '../../clients/types.js'
import { hashSecret } from '../../crypto/random.js'
import { findAuthorizationCodeForExchange } from '../../db/authorization-codes.js'
import { redeemCode } from '../../db/issuance.js'
import { mintTokens, type TokenResponse } from '../../tokens/issue.js'
import { InvalidGrant } from '../../protocol/errors.js'
import type { GrantDeps } from './deps.js'
import { param, requiredParam, type RawParams } from '../../protocol/params.js'
import { checkCodeVerifier } from '../../protocol/pkce.js'
import { answerReplay } from '../replay.js'
import { splitScopes } from '../../protocol/scopes.js'
import { splitResources } from '../../resources/resources.js'
import { tokenAudience } from './audience.js'
import { assertUserMayHoldTokens, idTokenSigner } from './token-holder.js'

const INVALID_CODE = 'The authorization code is invalid, expired, or was already used.'

/** RFC 6749 §4.1.3: exchanges an authorization code for tokens, once. */
export async function authorizationCodeGrant(ctx: GrantDeps, client: Client, params: RawParams, address: string): Promise<TokenResponse> {
  const code = requiredParam(params, 'code')
  const redirectUri = param(params, 'redirect_uri')
  const verifier = param(params, 'code_verifier')
  const codeHash = hashSecret(code)
  const now = ctx.clock()

  const found = await findAuthorizationCodeForExchange(ctx.db.kysely, codeHash)
  if (!found || found.code.clientId !== client.id) throw new InvalidGrant(INVALID_CODE)
  const { code: row, standing } = found
  const replayed = () =>
    answerReplay(
      ctx,
      { kind: 'authorization_code', grantId: row.grantId, clientId: client.id, userId: row.userId, teamId: row.teamId, address },
      INVALID_CODE,
      now,
    )
  if (row.consumedAt !== null) throw await replayed()
  if (row.expiresAt <= now) throw new InvalidGrant(INVALID_CODE)

  if (!redirectUriMatchesCode(client.redirectUris, redirectUri, row.redirectUri)) {
    throw new InvalidGrant('The redirect_uri does not match the one used in the authorization request.')
  }
  checkCodeVerifier(row.codeChallenge, verifier)

  assertUserMayHoldTokens(standing)
  const scopes = splitScopes(row.scopes)
  const resources = await tokenAudience(ctx, splitResources(row.resources), params)
  const idToken = idTokenSigner(
    ctx,
    { user: found.user, clientId: client.id, algorithm: client.idTokenSignedResponseAlg, teamId: row.teamId, login: row.login },
    scopes,
  )
  const minted = await mintTokens(
    ctx,
    { grantId: row.grantId, clientId: client.id, userId: row.userId, teamId: row.teamId, scopes, resources, login: row.login },
    idToken,
  )
  const grant = {
    id: row.grantId,
    clientId: client.id,
    userId: row.userId,
    teamId: row.teamId,
    scopes: row.scopes,
    resources: row.resources,
    createdAt: now,
    login: row.login,
  }
  const redeemed = await redeemCode(ctx.db, 'authorization_code', codeHash, grant, minted.rows, now)
  // Another request redeemed the code between our read and our write: a replay all the same.
  if (!redeemed) throw await replayed()
  ctx.activity.record({ action: 'token.issued', teamId: row.teamId, userId: row.userId, clientId: client.id, detail: 'authorization code grant', address })
  return minted.response
}
