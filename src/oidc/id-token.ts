import { createHash } from 'node:crypto'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import { acrOf, parseAmr } from '../accounts/assurance.js'
import type { User } from '../accounts/types.js'
import type { OpenIdLogin } from '../tokens/types.js'
import type { SigningAlgorithm } from '../keys/algorithms.js'
import { signJwt } from '../keys/sign-jwt.js'
import type { KeyRing } from '../keys/signing-keys.js'
import { userClaims } from './claims.js'
import { idTokensIssued } from '../observability/metrics.js'
import { inSpan } from '../observability/tracing.js'

/** ID tokens carry `typ: JWT`, access tokens `at+jwt` (RFC 9068): neither passes for the other. */
export const ID_TOKEN_TYPE = 'JWT'

export interface IdTokenInput {
  user: User
  clientId: string
  /** The client's `id_token_signed_response_alg` (OpenID Connect Registration §2). */
  algorithm: SigningAlgorithm
  teamId: number
  scopes: string[]
  login: OpenIdLogin
  accessToken: string
  issuedAtSeconds: number
  lifetimeSeconds: number
  /** OpenID Connect Core §12.2: an ID token from a refresh carries no nonce. */
  withNonce: boolean
}

/**
 * OpenID Connect Core §3.1.3.6: the left half of the hash of the access
 * token, with the hash of the signing algorithm (SHA-256 for RS256 and
 * ES256; SHA-512 for EdDSA over Ed25519, the hash inside Ed25519, as
 * relying-party libraries compute it).
 */
export function accessTokenHash(accessToken: string, algorithm: string): string {
  const bits = algorithm === 'EdDSA' ? '512' : algorithm.slice(-3)
  const digest = createHash(`sha${bits === '384' || bits === '512' ? bits : '256'}`)
    .update(accessToken, 'ascii')
    .digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

/** OpenID Connect Core §2: signed with the client's algorithm, from the key ring that signs the access tokens. */
export async function signIdToken(keyRing: KeyRing, issuer: string, input: IdTokenInput): Promise<string> {
  const key = await keyRing.signingKey(input.algorithm)
  const claims: Record<string, unknown> = {
    ...userClaims(input.user, input.teamId, input.scopes),
    at_hash: accessTokenHash(input.accessToken, key.alg),
    iss: issuer,
    aud: input.clientId,
    iat: input.issuedAtSeconds,
    exp: input.issuedAtSeconds + input.lifetimeSeconds,
  }
  // RFC 8176 methods of the login and the class they reach; an ID token always has a login behind it.
  const amr = parseAmr(input.login.amr)
  claims.amr = amr
  claims.acr = acrOf(amr)
  if (input.login.authTime !== null) claims.auth_time = Math.floor(input.login.authTime / 1000)
  if (input.login.sid !== null) claims.sid = input.login.sid
  if (input.withNonce && input.login.nonce !== null) claims.nonce = input.login.nonce
  const signed = await inSpan('sign id_token', { 'gatehouse.signing.alg': key.alg }, () => signJwt(key, ID_TOKEN_TYPE, claims))
  idTokensIssued.inc()
  return signed
}

export interface IdTokenHint {
  userId: number
  clientId: string
  sid: string | undefined
}

/**
 * An `id_token_hint` (OpenID Connect Core §3.1.2.1, RP-Initiated Logout §2):
 * one of our ID tokens, signed by a key we still publish. It may have
 * expired; what it says is who the client thinks is signed in.
 */
export async function readIdTokenHint(keyRing: KeyRing, issuer: string, token: string): Promise<IdTokenHint | undefined> {
  let kid: string | undefined
  let alg: string | undefined
  try {
    const header = decodeProtectedHeader(token)
    if (header.typ !== ID_TOKEN_TYPE) return undefined
    ;({ kid, alg } = header)
  } catch {
    return undefined
  }
  const key = kid === undefined ? undefined : await keyRing.verificationKey(kid)
  if (!key || key.alg !== alg) return undefined
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [key.alg],
      issuer,
      typ: ID_TOKEN_TYPE,
      clockTolerance: Number.MAX_SAFE_INTEGER / 1000,
      requiredClaims: ['sub', 'aud'],
    })
    const userId = Number(payload.sub)
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
    if (!Number.isSafeInteger(userId) || aud.length !== 1 || typeof aud[0] !== 'string') return undefined
    return { userId, clientId: aud[0], sid: typeof payload.sid === 'string' ? payload.sid : undefined }
  } catch {
    return undefined
  }
}
