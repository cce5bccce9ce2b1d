import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Randomness drawn from the system's generator a page at a time and handed
 * out once each: a call for a few bytes costs about as much as one for
 * thousands, and an issuance asks for several (Node.js's randomUUID keeps a
 * pool the same way).
 */
const POOL_BYTES = 4096
let pool = Buffer.alloc(0)
let used = 0

/** A random value for a secret: `bytes` of randomness, base64url without padding. */
export function randomSecret(bytes = 32): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('base64url')
  if (used + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES)
    used = 0
  }
  const secret = pool.toString('base64url', used, used + bytes)
  // Handed out once: no later secret can share these bytes.
  pool.fill(0, used, used + bytes)
  used += bytes
  return secret
}

/** How a high-entropy secret (token, code, session id) is stored: its SHA-256. */
export function hashSecret(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

export function hmac(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url')
}

/** Compares two strings in time independent of where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  // Compare equal-length buffers either way, so the length check leaks nothing
  // beyond the length itself.
  return timingSafeEqual(left, left.length === right.length ? right : left) && left.length === right.length
}
