import { Secret, TOTP } from 'otpauth'

/*
 * Authenticator-app codes (RFC 6238 with the defaults every app supports):
 * HMAC-SHA-1, 6 digits, a 30-second step, and one step of drift either way
 * for a phone's clock and the time it takes to type.
 */
const PERIOD = 30
const DIGITS = 6
const DRIFT_STEPS = 1

function totpFor(secret: string, label: string): TOTP {
  return new TOTP({ issuer: 'Gatehouse', label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secret) })
}

/** A new secret: 160 random bits (RFC 4226 §4 recommends that length), in base32 as apps take it typed in. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32
}

/** The `otpauth://` URI an app reads from the QR code, and the QR code as inline SVG drawn here (no outside service sees the secret). */
export async function enrolmentOf(secret: string, label: string): Promise<{ uri: string; qrSvg: string }> {
  const uri = totpFor(secret, label).toString()
  // Loaded by the first enrolment only, as few requests ever draw a code.
  const { default: QRCode } = await import('qrcode')
  return { uri, qrSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }) }
}

/** The time step `code` belongs to, if it is right for the secret at `now` (± one step); undefined otherwise. */
export function matchingStep(secret: string, code: string, now: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined
  const delta = totpFor(secret, '').validate({ token: code, timestamp: now, window: DRIFT_STEPS })
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD) + delta
}

/** A code as people type it: spaces and dashes between the digits are theirs, not part of it. */
export function normalizeCode(typed: string): string {
  return typed.replace(/[\s-]/g, '')
}
