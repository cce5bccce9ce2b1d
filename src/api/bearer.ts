import { touchPersonalAccessToken } from '../db/personal-access-tokens.js'
import { checkPersonalAccessToken, PAT_PREFIX } from '../tokens/personal-access-tokens.js'
import { checkAccessToken, type VerificationDeps } from '../tokens/verify.js'
import { splitResources } from '../resources/resources.js'
import type { Principal } from './principal.js'

export type BearerCredentials = { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; token: string }

/** RFC 6750 §2.1: `Authorization: Bearer <token>`, the scheme name in any letter case. */
export function readBearer(authorization: string | undefined): BearerCredentials {
  if (authorization === undefined || authorization.trim() === '') return { kind: 'none' }
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization)
  return match ? { kind: 'token', token: match[1]! } : { kind: 'malformed' }
}

export type BearerVerdict = { ok: true; principal: Principal } | { ok: false; reason: string }

/** One check for both kinds of token: OAuth access tokens (JWT) and personal access tokens. */
export async function authenticateBearer(ctx: VerificationDeps, token: string): Promise<BearerVerdict> {
  const now = ctx.clock()
  if (token.startsWith(PAT_PREFIX)) {
    const verdict = await checkPersonalAccessToken(ctx.db, token, now)
    if (!verdict.active) return { ok: false, reason: verdict.reason }
    await touchPersonalAccessToken(ctx.db.kysely, verdict.token.id, now)
    return {
      ok: true,
      principal: {
        user: verdict.user,
        teamId: verdict.token.teamId,
        kind: 'personal_access_token',
        clientId: null,
        personalAccessTokenId: verdict.token.id,
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
      scopes: verdict.claims.scopes,
      resources: splitResources(verdict.row.resources),
    },
  }
}
