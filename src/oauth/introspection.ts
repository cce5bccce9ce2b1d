import type { Client } from '../clients/types.js'
import { hashSecret } from '../crypto/random.js'
import { findRefreshTokenForRotation } from '../db/tokens.js'
import { authenticateBearer } from '../tokens/bearer.js'
import type { VerificationDeps } from '../tokens/verify.js'
import { checkPersonalAccessToken } from '../tokens/personal-access-tokens.js'
import { requiredParam, type RawParams } from '../protocol/params.js'
import { splitScopes } from '../protocol/scopes.js'
import { tokenKind } from '../protocol/token-kind.js'
import { refreshTokenLiveness } from './grants/token-holder.js'

/** RFC 7662 §2.2 / RFC 9068: one audience as a string, several as an array; the stored record decides. */
function audienceOf(clientId: string, resources: string[]): string | string[] {
  if (resources.length === 0) return clientId
  return resources.length === 1 ? resources[0]! : resources
}

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>)

const INACTIVE: IntrospectionResponse = { active: false }

/**
 * A client may look into its own tokens; first-party clients (the product's
 * own resource servers) into any. Anything else reads as inactive, so the
 * answer never tells a client whether someone else's token exists.
 */
function mayInspect(caller: Client, tokenClientId: string): boolean {
  return caller.isFirstParty || caller.id === tokenClientId
}

/**
 * OpenID Connect Core §5.4: the e-mail address goes only to holders of the
 * `email` scope; RFC 7662 §2.2 makes `username` optional. A token without
 * scopes holds all of its user's permissions, and first-party clients are
 * the product's own services.
 */
function releasesEmail(caller: Client, scopes: string[]): boolean {
  return caller.isFirstParty || scopes.length === 0 || scopes.includes('email')
}

function usernameFor(caller: Client, scopes: string[], email: string): { username?: string } {
  return releasesEmail(caller, scopes) ? { username: email } : {}
}

/** RFC 7662 §2: `{"active":false}` and nothing more for any token that is not live. */
export async function introspect(ctx: VerificationDeps, caller: Client, params: RawParams): Promise<IntrospectionResponse> {
  const token = requiredParam(params, 'token')
  switch (tokenKind(token)) {
    case 'personal_access_token':
      return introspectPersonalAccessToken(ctx, caller, token)
    case 'oauth_access_token':
      return introspectAccessToken(ctx, caller, token)
    case 'refresh_token':
      return introspectRefreshToken(ctx, caller, token)
  }
}

async function introspectPersonalAccessToken(ctx: VerificationDeps, caller: Client, token: string): Promise<IntrospectionResponse> {
  // A personal access token belongs to no client: only the product's own (first-party) services may look into it.
  if (!caller.isFirstParty) return INACTIVE
  const verdict = await checkPersonalAccessToken(ctx.db, token, ctx.clock())
  if (!verdict.active) return INACTIVE
  return {
    active: true,
    scope: '',
    username: verdict.user.email,
    token_type: 'Bearer',
    exp: Math.floor(verdict.token.expiresAt.getTime() / 1000),
    iat: Math.floor(verdict.token.createdAt.getTime() / 1000),
    sub: String(verdict.user.id),
    iss: ctx.config.issuer,
    team_id: verdict.token.teamId,
    token_kind: 'personal_access_token',
  }
}

/**
 * The same check as the API's bearer check, so a token whose standing this
 * process checked already is answered from memory, and forgotten with it the
 * moment a revocation is written.
 */
async function introspectAccessToken(ctx: VerificationDeps, caller: Client, token: string): Promise<IntrospectionResponse> {
  const verdict = await authenticateBearer(ctx, token)
  if (!verdict.ok || verdict.principal.kind !== 'oauth' || !mayInspect(caller, verdict.principal.clientId)) return INACTIVE
  const { user, clientId, scopes, resources, claims, act } = verdict.principal
  return {
    active: true,
    scope: scopes.join(' '),
    client_id: clientId,
    ...usernameFor(caller, scopes, user.email),
    token_type: 'Bearer',
    exp: claims.expiresAtSeconds,
    iat: claims.issuedAtSeconds,
    nbf: claims.issuedAtSeconds,
    sub: String(user.id),
    aud: audienceOf(clientId, resources),
    iss: ctx.config.issuer,
    jti: verdict.principal.tokenId,
    team_id: verdict.principal.teamId,
    token_kind: 'oauth_access_token',
    ...(claims.authentication && {
      auth_time: claims.authentication.authTimeSeconds,
      amr: claims.authentication.amr,
      acr: claims.authentication.acr,
    }),
    ...(act && { act }),
  }
}

async function introspectRefreshToken(ctx: VerificationDeps, caller: Client, token: string): Promise<IntrospectionResponse> {
  const held = await findRefreshTokenForRotation(ctx.db.kysely, hashSecret(token))
  if (!held || refreshTokenLiveness(held, ctx.clock()) !== 'live' || !mayInspect(caller, held.refresh.clientId)) return INACTIVE
  const { refresh, grant, user } = held
  const scopes = splitScopes(grant.scopes)
  return {
    active: true,
    scope: scopes.join(' '),
    client_id: refresh.clientId,
    ...usernameFor(caller, scopes, user.email),
    token_type: 'refresh_token',
    exp: Math.floor(refresh.expiresAt / 1000),
    iat: Math.floor(refresh.createdAt / 1000),
    sub: String(grant.userId),
    iss: ctx.config.issuer,
    team_id: grant.teamId,
  }
}
