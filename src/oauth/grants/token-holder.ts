import type { User } from '../../accounts/types.js'
import type { OpenIdSubject } from '../../tokens/issue.js'
import type { HolderStanding, OpenIdLogin } from '../../tokens/types.js'
import { InvalidGrant } from '../../protocol/errors.js'
import { isOpenIdRequest } from '../../protocol/scopes.js'

/** Tokens act as their user within their team: both must still hold. */
export function assertUserMayHoldTokens(standing: HolderStanding): void {
  if (standing.userDisabled) throw new InvalidGrant('The user of this grant is disabled.')
  if (!standing.isMember) throw new InvalidGrant('The user is no longer a member of the team of this grant.')
}

/** The user behind an OpenID Connect grant, for its ID token; nothing for a plain OAuth grant. */
export function openIdSubject(user: User, scopes: string[], login: OpenIdLogin, withNonce = true): OpenIdSubject | undefined {
  if (!isOpenIdRequest(scopes)) return undefined
  return { user, login, withNonce }
}
