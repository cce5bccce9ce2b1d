import { authenticateBearer } from '../tokens/bearer.js'
import type { VerificationDeps } from '../tokens/verify.js'
import { isOpenIdRequest } from '../protocol/scopes.js'
import { userClaims } from './claims.js'

export type UserinfoAnswer =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; error: 'invalid_token'; reason: string }
  | { ok: false; error: 'insufficient_scope'; scope: 'openid' }

/**
 * OpenID Connect Core §5.3: the claims of the token's user for the token's
 * scopes, the same as in its ID token. A token without `openid` was not
 * issued for signing in (RFC 6750 §3.1 insufficient_scope); an ID token is
 * no access token and is refused like any invalid one.
 */
export async function userinfo(ctx: VerificationDeps, token: string): Promise<UserinfoAnswer> {
  const verdict = await authenticateBearer(ctx, token)
  if (!verdict.ok) return { ok: false, error: 'invalid_token', reason: verdict.reason }
  const { principal } = verdict
  if (!isOpenIdRequest(principal.scopes)) return { ok: false, error: 'insufficient_scope', scope: 'openid' }
  return { ok: true, claims: userClaims(principal.user, principal.teamId, principal.scopes) }
}
