import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose'
import { randomSecret } from '../crypto/random.js'
import type { KeyRing } from '../keys/signing-keys.js'
import { signJwt } from '../keys/sign-jwt.js'
import type { AccessTokenClaims, TokenAuthentication } from './types.js'
import type { CheckedSignature, VerifiedTokenCache } from './cache/verified-cache.js'
import { verifiedTokenCache } from '../observability/metrics.js'
import { inSpan } from '../observability/tracing.js'

/** RFC 9068 §2.1: the media type of JWT access tokens. */
export const ACCESS_TOKEN_TYPE = 'at+jwt'

export function newTokenId(): string {
  return randomSecret(24)
}

/**
 * Signs an access token with the claims integrators read: `aud`, `jti`, `iat`, `nbf`,
 * `exp`, `sub`, `scopes`, plus `iss`, `client_id`, `scope` (RFC 9068) and
 * the team the token is bound to. `aud` is the client, or the resources the
 * token was asked for (RFC 8707 §2, RFC 9068 §3).
 */
export async function signAccessToken(keyRing: KeyRing, issuer: string, claims: AccessTokenClaims, resources: string[] = []): Promise<string> {
  const key = await keyRing.signingKey()
  const claimSet = {
    iss: issuer,
    sub: String(claims.userId),
    aud: resources.length === 0 ? claims.clientId : resources.length === 1 ? resources[0]! : resources,
    jti: claims.jti,
    iat: claims.issuedAtSeconds,
    nbf: claims.issuedAtSeconds,
    exp: claims.expiresAtSeconds,
    client_id: claims.clientId,
    scopes: claims.scopes,
    scope: claims.scopes.join(' '),
    team_id: claims.teamId,
    ...(claims.authentication && {
      auth_time: claims.authentication.authTimeSeconds,
      amr: claims.authentication.amr,
      acr: claims.authentication.acr,
    }),
    ...(claims.act && { act: claims.act }),
  }
  return inSpan('sign access_token', { 'gatehouse.signing.alg': key.alg }, () => signJwt(key, ACCESS_TOKEN_TYPE, claimSet))
}

export type AccessTokenCheck = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: string }

/**
 * Checks an access token's signature and claims (not yet its revocation:
 * that is the database's word, see tokens/verify.ts). `at: 'any time'`
 * skips the time checks, for revoking a token that may have expired.
 */
export async function verifyAccessTokenSignature(
  keyRing: KeyRing,
  issuer: string,
  token: string,
  at: { nowSeconds: number } | 'any time',
  cache?: VerifiedTokenCache,
): Promise<AccessTokenCheck> {
  const known = cache && (await rememberedSignature(keyRing, cache, token))
  if (cache) (known ? verifiedTokenCache.hit : verifiedTokenCache.miss).inc()
  if (known) {
    if (at !== 'any time' && known.claims.expiresAtSeconds <= at.nowSeconds) return { ok: false, reason: 'token expired' }
    return { ok: true, claims: known.claims }
  }
  const checked = await verifyWithKey(keyRing, issuer, token, at)
  if (checked.ok && cache) cache.set(token, { claims: checked.claims, kid: checked.kid })
  return checked
}

/**
 * The remembered check of the token's signature, while the key that made it
 * is still published: a key that left the key set verifies nothing more
 * (RFC 7517 §5), so what it verified is forgotten, standing included.
 */
export async function rememberedSignature(keyRing: KeyRing, cache: VerifiedTokenCache, token: string): Promise<CheckedSignature | undefined> {
  const known = cache.get(token)
  if (!known || (await keyRing.verificationKey(known.kid))) return known
  cache.drop(token)
  return undefined
}

async function verifyWithKey(
  keyRing: KeyRing,
  issuer: string,
  token: string,
  at: { nowSeconds: number } | 'any time',
): Promise<{ ok: true; claims: AccessTokenClaims; kid: string } | { ok: false; reason: string }> {
  let kid: string | undefined
  let alg: string | undefined
  try {
    ;({ kid, alg } = decodeProtectedHeader(token))
  } catch {
    return { ok: false, reason: 'malformed token' }
  }
  if (!kid) return { ok: false, reason: 'no key id' }
  const key = await keyRing.verificationKey(kid)
  if (!key) return { ok: false, reason: 'unknown key id' }
  // RFC 8725 §3.1: the key decides the algorithm, never the token's header alone.
  if (alg !== key.alg) return { ok: false, reason: 'unsupported algorithm' }
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [key.alg],
      issuer,
      typ: ACCESS_TOKEN_TYPE,
      ...(at === 'any time' ? { clockTolerance: Number.MAX_SAFE_INTEGER / 1000 } : { currentDate: new Date(at.nowSeconds * 1000) }),
      requiredClaims: ['jti', 'sub', 'aud', 'exp', 'iat', 'nbf'],
    }))
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, reason: 'token expired' }
    return { ok: false, reason: 'invalid token' }
  }
  const userId = Number(payload.sub)
  const teamId = payload.team_id
  const clientId = payload.client_id
  const scopes = payload.scopes
  if (!Number.isSafeInteger(userId) || typeof teamId !== 'number' || typeof clientId !== 'string' || !Array.isArray(scopes)) {
    return { ok: false, reason: 'invalid token' }
  }
  return {
    ok: true,
    kid,
    claims: {
      jti: payload.jti!,
      clientId,
      userId,
      teamId,
      scopes: scopes.filter((s): s is string => typeof s === 'string'),
      issuedAtSeconds: payload.iat!,
      expiresAtSeconds: payload.exp!,
      ...authenticationOf(payload),
    },
  }
}

function authenticationOf(payload: JWTPayload): { authentication?: TokenAuthentication } {
  const { auth_time: authTime, amr, acr } = payload
  if (typeof authTime !== 'number' || !Array.isArray(amr) || typeof acr !== 'string') return {}
  return { authentication: { authTimeSeconds: authTime, amr: amr.filter((m): m is string => typeof m === 'string'), acr } }
}
