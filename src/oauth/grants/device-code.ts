import type { Client } from '../../clients/types.js'
import { hashSecret } from '../../crypto/random.js'
import { findDeviceAuthorizationForPoll, slowDown, takePoll } from '../../db/device-authorizations.js'
import { redeemCode } from '../../db/issuance.js'
import { AccessDenied, AuthorizationPending, ExpiredToken, InvalidGrant, SlowDown } from '../../protocol/errors.js'
import { requiredParam, type RawParams } from '../../protocol/params.js'
import { splitScopes } from '../../protocol/scopes.js'
import { splitResources } from '../../resources/resources.js'
import { mintTokens, type TokenResponse } from '../../tokens/issue.js'
import { answerReplay } from '../replay.js'
import { tokenAudience } from './audience.js'
import type { GrantDeps } from './deps.js'
import { assertUserMayHoldTokens, idTokenSigner } from './token-holder.js'

const INVALID_DEVICE_CODE = 'The device code is invalid, was issued to another application, or was already used.'

/** RFC 8628 §3.4–3.5: the device polls with its device code until the user decides; an approval is redeemed once. */
export async function deviceCodeGrant(ctx: GrantDeps, client: Client, params: RawParams, address: string): Promise<TokenResponse> {
  const deviceCodeHash = hashSecret(requiredParam(params, 'device_code'))
  const now = ctx.clock()
  const found = await findDeviceAuthorizationForPoll(ctx.db.kysely, deviceCodeHash)
  if (!found || found.authorization.clientId !== client.id) throw new InvalidGrant(INVALID_DEVICE_CODE)
  const { authorization: row, holder } = found
  const replayed = () =>
    row.userId === null || row.teamId === null
      ? new InvalidGrant(INVALID_DEVICE_CODE)
      : answerReplay(
          ctx,
          { kind: 'device_code', grantId: row.grantId, clientId: client.id, userId: row.userId, teamId: row.teamId, address },
          INVALID_DEVICE_CODE,
          now,
        )
  if (row.consumedAt !== null) throw await replayed()
  if (row.expiresAt <= now) throw new ExpiredToken()
  if (!(await takePoll(ctx.db.kysely, deviceCodeHash, now))) {
    const interval = await slowDown(ctx.db.kysely, deviceCodeHash, now)
    throw new SlowDown(interval)
  }
  if (row.status === 'pending') throw new AuthorizationPending()
  if (row.status === 'denied') throw new AccessDenied('The user denied the request.', 400)
  if (!holder || row.userId === null || row.teamId === null) throw new InvalidGrant(INVALID_DEVICE_CODE)

  assertUserMayHoldTokens(holder.standing)
  const userId = row.userId
  const teamId = row.teamId
  const scopes = splitScopes(row.scopes)
  const resources = await tokenAudience(ctx, splitResources(row.resources), params)
  const login = { nonce: null, sid: null, authTime: row.authTime, amr: row.amr }
  const idToken = idTokenSigner(ctx, { user: holder.user, clientId: client.id, algorithm: client.idTokenSignedResponseAlg, teamId, login }, scopes)
  const minted = await mintTokens(ctx, { grantId: row.grantId, clientId: client.id, userId, teamId, scopes, resources }, idToken)
  const grant = { id: row.grantId, clientId: client.id, userId, teamId, scopes: row.scopes, resources: row.resources, createdAt: now, login }
  const redeemed = await redeemCode(ctx.db, 'device_code', deviceCodeHash, grant, minted.rows, now)
  // Another poll redeemed the code between our read and our write: a replay all the same.
  if (!redeemed) throw await replayed()
  ctx.activity.record({ action: 'token.issued', teamId, userId, clientId: client.id, detail: 'device code grant', address })
  return minted.response
}
