import { checkPersonalAccessToken } from './personal-access-tokens.js'
import { rememberedSignature } from './access-token.js'
import { checkAccessToken, type VerificationDeps } from './verify.js'
import { splitResources } from '../resources/resources.js'
import { splitScopes } from '../protocol/scopes.js'
import { tokenKind } from '../protocol/token-kind.js'
import type { Principal } from './principal.js'
import type { Actor } from './types.js'
import { verifiedTokenCache } from '../observability/metrics.js'

export type BearerVerdict = { ok: true; principal: Principal } | { ok: false; reason: string }

/**
 * One check for both kinds of token: OAuth access tokens (JWT) and personal
 * access tokens. A standing checked before is answered from memory; the
 * cache forgets it as soon as anything that could end it is written.
 */
export async function authenticateBearer(ctx: VerificationDeps, token: string): Promise<BearerVerdict> {
  const now = ctx.clock()
  const cache = ctx.verifiedTokens
  // An access token's remembered standing holds only while its signing key is published.
  if (cache && tokenKind(token) === 'oauth_access_token') await rememberedSignature(ctx.keyRing, cache, token)
  const known = cache?.standing(token, now)
  if (known) {
    verifiedTokenCache.hit.inc()
    return { ok: true, principal: known }
  }
  const mark = cache?.mark() ?? 0
  const checked = await checkBearer(ctx, token, now)
  if (!checked.ok) return checked
  cache?.remember(token, checked.principal, checked.expiresAtMs, mark, now)
  return { ok: true, principal: checked.principal }
}

async function checkBearer(
  ctx: VerificationDeps,
  token: string,
  now: number,
): Promise<{ ok: true; principal: Principal; expiresAtMs: number } | { ok: false; reason: string }> {
  if (tokenKind(token) === 'personal_access_token') {
    const verdict = await checkPersonalAccessToken(ctx.db, token, now)
    if (!verdict.active) return { ok: false, reason: verdict.reason }
    return {
      ok: true,
      expiresAtMs: verdict.token.expiresAt.getTime(),
      principal: {
        user: verdict.user,
        teamId: verdict.token.teamId,
        kind: 'personal_access_token',
        clientId: null,
        personalAccessTokenId: verdict.token.id,
        tokenId: verdict.token.id,
        scopes: [],
        resources: [],
      },
    }
  }
  const verdict = await checkAccessToken(ctx, token)
  if (!verdict.active) return { ok: false, reason: verdict.reason }
  return {
    ok: true,
    expiresAtMs: verdict.row.expiresAt,
    principal: {
      user: verdict.user,
      teamId: verdict.row.teamId,
      kind: 'oauth',
      clientId: verdict.row.clientId,
      personalAccessTokenId: null,
      tokenId: verdict.claims.jti,
      // The signature proves where the token came from; what it may do is the stored record's word.
      scopes: splitScopes(verdict.row.scopes),
      resources: splitResources(verdict.row.resources),
      ...(verdict.row.act !== null && { act: JSON.parse(verdict.row.act) as Actor }),
      claims: verdict.claims,
    },
  }
}
