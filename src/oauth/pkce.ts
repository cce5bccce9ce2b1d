import { createHash } from 'node:crypto'
import { safeEqual } from '../crypto/random.js'

/** RFC 7636 §4.1/§4.2: 43–128 unreserved characters; an S256 challenge is 43 base64url characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/

export function isValidChallenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge)
}

export function verifyCodeVerifier(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false
  const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url')
  return safeEqual(computed, challenge)
}
