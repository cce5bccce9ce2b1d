import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** A random value for a secret: `bytes` of randomness, base64url without padding. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
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
