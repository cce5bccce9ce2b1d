import { createHash } from 'node:crypto'
import { safeEqual } from '../crypto/random.js'
import { InvalidGrant, InvalidRequest } from './errors.js'

/*
 * PKCE (RFC 7636) as Gatehouse applies it, the whole policy in one place:
 * - S256 only: "plain", and a challenge without a method (which RFC 7636 §4.3
 *   reads as plain), offer no protection (RFC 9700 §2.1.1).
 * - required from public clients, which have nothing else to bind the code
 *   to the app that asked for it (RFC 9700 §2.1.1); optional for the others.
 * - a verifier at the token endpoint for a code issued without a challenge is
 *   a downgrade attempt and is refused (RFC 9700 §4.8.2).
 * - verifiers are 43–128 unreserved characters (RFC 7636 §4.1).
 */

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/

export function isValidChallenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge)
}

export function verifyCodeVerifier(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false
  const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url')
  return safeEqual(computed, challenge)
}

/**
 * The authorization request's code_challenge and code_challenge_method:
 * the challenge to bind the code to, or undefined when the client may go
 * without. Throws InvalidRequest, reported to the client by redirect.
 */
export function challengeOfRequest(client: { isConfidential: boolean }, challenge: string | undefined, method: string | undefined): string | undefined {
  if (challenge === undefined) {
    if (method !== undefined) throw new InvalidRequest('code_challenge_method was given without a code_challenge.')
    if (!client.isConfidential) throw new InvalidRequest('This application must use PKCE: send a code_challenge with code_challenge_method=S256.')
    return undefined
  }
  if (method !== 'S256') throw new InvalidRequest('code_challenge_method must be S256.')
  if (!isValidChallenge(challenge)) throw new InvalidRequest('code_challenge must be 43 base64url characters (the SHA-256 of the code_verifier).')
  return challenge
}

/** At the token endpoint: the code_verifier against the challenge the code was issued with (null: none). */
export function checkCodeVerifier(challenge: string | null, verifier: string | undefined): void {
  if (challenge === null) {
    if (verifier !== undefined) throw new InvalidGrant('A code_verifier was sent, but the authorization request had no code_challenge.')
    return
  }
  if (verifier === undefined) throw new InvalidGrant('The code_verifier is required (PKCE, RFC 7636).')
  if (!verifyCodeVerifier(verifier, challenge)) throw new InvalidGrant('The code_verifier does not match the code_challenge.')
}
