import type { Transaction } from 'kysely'
import { deletePendingAuthorizationCodes } from '../db/authorization-codes.js'
import { deleteConsents } from '../db/consents.js'
import { deleteUnredeemedDeviceAuthorizations } from '../db/device-authorizations.js'
import { deletePersonalAccessTokensOf } from '../db/personal-access-tokens.js'
import type { Database } from '../db/schema.js'
import { revokeGrants } from '../db/tokens.js'
import type { HoldingsOf } from './types.js'

/**
 * Ends what was authorised: the grants with every token descending from
 * them, the codes and device approvals not yet redeemed, and the consents, so the next
 * authorisation asks again. Run in the caller's transaction: whole or not at all.
 */
export async function revokeHoldings(trx: Transaction<Database>, of: HoldingsOf, now: number): Promise<{ grants: number }> {
  const grants = await revokeGrants(trx, of, now)
  await deletePendingAuthorizationCodes(trx, of)
  await deleteUnredeemedDeviceAuthorizations(trx, of)
  await deleteConsents(trx, of)
  return { grants }
}

/**
 * Ends everything a user holds, in one team or in all: what apps were
 * authorised to do, and the user's personal access tokens. Nothing comes
 * back later: enabling the user or adding them to the team again restores
 * none of it, and the user authorises apps again.
 */
export async function revokeUserHoldings(
  trx: Transaction<Database>,
  userId: number,
  teamId: number | undefined,
  now: number,
): Promise<{ grants: number; personalAccessTokens: number }> {
  const { grants } = await revokeHoldings(trx, teamId === undefined ? { userId } : { userId, teamId }, now)
  const personalAccessTokens = await deletePersonalAccessTokensOf(trx, userId, teamId)
  return { grants, personalAccessTokens }
}
