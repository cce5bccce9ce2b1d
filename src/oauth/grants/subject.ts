import type { AppContext } from '../../context.js'
import { findMembership } from '../../db/teams.js'
import { findUserById } from '../../db/users.js'
import { InvalidGrant } from '../errors.js'

/** Tokens act as their user within their team: both must still hold. */
export async function assertUserMayHoldTokens(ctx: AppContext, userId: number, teamId: number): Promise<void> {
  const user = await findUserById(ctx.db.kysely, userId)
  if (!user || user.isDisabled) throw new InvalidGrant('The user of this grant is disabled.')
  if (!(await findMembership(ctx.db.kysely, teamId, userId))) throw new InvalidGrant('The user is no longer a member of the team of this grant.')
}
