import type { HolderStanding } from '../../tokens/types.js'
import { InvalidGrant } from '../errors.js'

/** Tokens act as their user within their team: both must still hold. */
export function assertUserMayHoldTokens(standing: HolderStanding): void {
  if (standing.userDisabled) throw new InvalidGrant('The user of this grant is disabled.')
  if (!standing.isMember) throw new InvalidGrant('The user is no longer a member of the team of this grant.')
}
