import { Refusal, type MessageCode } from './messages.js'

/**
 * Names people give to clients, tokens, teams and users are shown to other
 * people, on the consent page first. Control characters have no business in
 * them, and the bidirectional ones (U+202A–U+202E embeddings and overrides,
 * U+2066–U+2069 isolates, and the invisible direction marks) can turn the
 * sentence around a name back to front, the way "Trojan Source" hides code
 * (CVE-2021-42574; Unicode TR #9).
 */
const CONTROL_CHARACTERS = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u

/** The longest name of a client, token or team, in UTF-16 units as the database and the form count them. */
export const NAME_MAX_LENGTH = 100

export interface NameRules {
  required: MessageCode
  controlCharacters: MessageCode
  /** Set for names with a length limit. */
  tooLong?: MessageCode
}

/**
 * Format characters (Unicode category Cf: zero-width spaces and joiners,
 * direction marks, soft hyphens, …) show nothing on their own, so a name
 * made only of them and spaces reads as no name at all: a blank heading on
 * the consent page.
 */
const INVISIBLE = /[\s\p{Cf}]/gu

/** Whether the name shows nothing: only spaces and format characters. */
export function isBlankName(name: string): boolean {
  return name.replace(INVISIBLE, '') === ''
}

/** The name without surrounding blanks, or the error that says what is wrong with it. */
export function validName(name: string, rules: NameRules): string {
  const trimmed = name.trim()
  if (isBlankName(trimmed)) throw new Refusal(rules.required)
  if (CONTROL_CHARACTERS.test(trimmed)) throw new Refusal(rules.controlCharacters)
  if (rules.tooLong && trimmed.length > NAME_MAX_LENGTH) throw new Refusal(rules.tooLong)
  return trimmed
}
