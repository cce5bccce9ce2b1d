import { randomInt } from 'node:crypto'

/*
 * RFC 8628 §6.1: the user code is typed by a person, so it is short, made of
 * 20 consonants (no vowels, so no words, and no letters mistaken for digits),
 * and read case-insensitively with any dashes or spaces left out. Eight of
 * them give 20^8 ≈ 2^34.6 codes; guessing is throttled per address.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'
const USER_CODE_LENGTH = 8

/** A fresh user code, in its canonical form (no dash). */
export function newUserCode(): string {
  let code = ''
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]
  return code
}

/** How the code is shown: `WDJB-MJHT`. */
export function displayUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`
}

/** The canonical form of what a person typed, or undefined when it cannot be a user code. */
export function canonicalUserCode(typed: string): string | undefined {
  const code = typed.toUpperCase().replace(/[\s-]/g, '')
  if (code.length !== USER_CODE_LENGTH) return undefined
  return [...code].every((c) => USER_CODE_ALPHABET.includes(c)) ? code : undefined
}
