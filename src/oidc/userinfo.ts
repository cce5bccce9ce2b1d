import { authenticateBearer } from '../tokens/bearer.js'
import type { VerificationDeps } from '../tokens/verify.js'
import { isOpenIdRequest } from '../protocol/scopes.js'
import { apiResourceUri } from '../resources/resources.js'
import { userClaims } from './claims.js'

export type UserinfoAnswer =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; error: 'invalid_token'; reason: string }
  | { ok: false; error: 'insufficient_scope'; scope: 'openid' }

/**
 * RFC 8707 §2, RFC 9068 §4: a token is accepted only by the resources its
 * audience names. One bound to no resource is for Gatehouse itself, as every
 * token was before resources; one bound to resources must name Gatehouse,
 * its issuer or its own API, or it is another resource's token.
 */
export function isForGatehouse(issuer: string, resources: string[]): boolean {
  return resources.length === 0 || resources.some((uri) => uri === issuer || uri === apiResourceUri(issuer))
}

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
  if (!isForGatehouse(ctx.config.issuer, principal.resources)) return { ok: false, error: 'invalid_token', reason: 'token issued for another resource' }
  if (!isOpenIdRequest(principal.scopes)) return { ok: false, error: 'insufficient_scope', scope: 'openid' }
  return { ok: true, claims: userClaims(principal.user, principal.teamId, principal.scopes) }
}
