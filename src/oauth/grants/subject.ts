import type { Db } from '../../db/connection.js'
import { findUserById } from '../../db/users.js'
import type { OpenIdSubject } from '../../tokens/issue.js'
import type { HolderStanding, OpenIdLogin } from '../../tokens/types.js'
import { InvalidGrant } from '../errors.js'
import { isOpenIdRequest } from '../scopes.js'

/** Tokens act as their user within their team: both must still hold. */
export function assertUserMayHoldTokens(standing: HolderStanding): void {
  if (standing.userDisabled) throw new InvalidGrant('The user of this grant is disabled.')
  if (!standing.isMember) throw new InvalidGrant('The user is no longer a member of the team of this grant.')
}

/** The user behind an OpenID Connect grant, for its ID token; nothing to look up for a plain OAuth grant. */
export async function openIdSubject(
  ctx: { db: Db },
  userId: number,
  scopes: string[],
  login: OpenIdLogin,
  withNonce = true,
): Promise<OpenIdSubject | undefined> {
  if (!isOpenIdRequest(scopes)) return undefined
  const user = await findUserById(ctx.db.kysely, userId)
  if (!user) throw new InvalidGrant('The user of this grant no longer exists.')
  return { user, login, withNonce }
}
