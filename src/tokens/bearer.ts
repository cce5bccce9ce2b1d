import { checkPersonalAccessToken, PAT_PREFIX } from './personal-access-tokens.js'
import { checkAccessToken, type VerificationDeps } from './verify.js'
import { splitResources } from '../resources/resources.js'
import { splitScopes } from '../oauth/scopes.js'
import type { Principal } from './principal.js'

export type BearerVerdict = { ok: true; principal: Principal } | { ok: false; reason: string }

/** One check for both kinds of token: OAuth access tokens (JWT) and personal access tokens. */
export async function authenticateBearer(ctx: VerificationDeps, token: string): Promise<BearerVerdict> {
  const now = ctx.clock()
  if (token.startsWith(PAT_PREFIX)) {
    const verdict = await checkPersonalAccessToken(ctx.db, token, now)
    if (!verdict.active) return { ok: false, reason: verdict.reason }
    return {
      ok: true,
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
    },
  }
}
