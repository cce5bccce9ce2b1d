import { authenticateBearer } from '../api/bearer.js'
import { insufficientScope, invalidToken } from '../api/errors.js'
import type { VerificationDeps } from '../tokens/verify.js'
import { isOpenIdRequest } from '../oauth/scopes.js'
import { userClaims } from './claims.js'

/**
 * OpenID Connect Core §5.3: the claims of the token's user for the token's
 * scopes, the same as in its ID token. A token without `openid` was not
 * issued for signing in (RFC 6750 §3.1 insufficient_scope); an ID token is
 * no access token and is refused like any invalid one.
 */
export async function userinfo(ctx: VerificationDeps, token: string): Promise<Record<string, unknown>> {
  const verdict = await authenticateBearer(ctx, token)
  if (!verdict.ok) throw invalidToken(verdict.reason)
  const { principal } = verdict
  if (!isOpenIdRequest(principal.scopes)) throw insufficientScope('openid')
  return userClaims(principal.user, principal.teamId, principal.scopes)
}
