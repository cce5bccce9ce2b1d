import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { Refusal } from '../messages.js'

// OWASP Password Storage Cheat Sheet: scrypt with N=2^15, r=8, p=3 (32 MiB),
// one of its equivalent minimum settings. The parameters are stored with each
// hash so they can be raised later without breaking existing passwords.
const DEFAULT = { N: 2 ** 15, r: 8, p: 3 }
const KEY_LENGTH = 32

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, DEFAULT)
  return ['scrypt', DEFAULT.N, DEFAULT.r, DEFAULT.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  // A stored value must not be able to ask for absurd work or memory.
  const sane =
    Number.isInteger(N) &&
    N >= 2 ** 14 &&
    N <= 2 ** 20 &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= 32 &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= 16
  if (!sane) return false
  const salt = Buffer.from(parts[4]!, 'base64url')
  const expected = Buffer.from(parts[5]!, 'base64url')
  const actual = await derive(password, salt, { N, r, p })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

// Checked against when the e-mail is unknown, so that an unknown account
// costs as long as a wrong password and the two cannot be told apart.
let decoy: Promise<string> | undefined
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'))
  return decoy
}

/** NIST SP 800-63B §3.1.1.2: at least 8 characters; the upper limit is far above 64. */
const MIN_LENGTH = 8
const MAX_LENGTH = 1024

let common: Promise<Set<string>> | undefined
function commonPasswords(): Promise<Set<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common']))
  return common
}

/**
 * Refuses a password a person chooses (reset, change, set by an operator)
 * that is too short, too long, or on a list of commonly used passwords
 * (NIST SP 800-63B §3.1.1.2), with one message that says why.
 */
export async function checkNewPassword(password: string): Promise<void> {
  if (password.length < MIN_LENGTH) throw new Refusal('password_too_short')
  if (password.length > MAX_LENGTH) throw new Refusal('password_too_long')
  if ((await commonPasswords()).has(password.normalize('NFKC').toLowerCase())) throw new Refusal('password_common')
}
