import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Refusal } from './messages.js'
import { isBlankName, validName } from './names.js'

const RULES = { required: 'client_name_required', controlCharacters: 'client_name_control_characters', tooLong: 'client_name_too_long' } as const

function refusal(name: string): string | undefined {
  try {
    validName(name, RULES)
    return undefined
  } catch (err) {
    assert.ok(err instanceof Refusal)
    return err.code
  }
}

describe('names people type', () => {
  it('refuses every bidirectional embedding, override and isolate (U+202A–U+202E, U+2066–U+2069) and the direction marks (Trojan Source, CVE-2021-42574)', () => {
    const controls = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]
    for (const code of controls) assert.equal(refusal(`Pay${String.fromCodePoint(code)}pal`), 'client_name_control_characters', code.toString(16))
  })

  it('refuses other control characters: NUL, tab, newline, escape, DEL and the C1 range', () => {
    for (const code of [0x00, 0x09, 0x0a, 0x1b, 0x7f, 0x85, 0x9f])
      assert.equal(refusal(`a${String.fromCodePoint(code)}b`), 'client_name_control_characters', code.toString(16))
  })

  it('accepts names in right-to-left scripts, accents and emoji, trimmed', () => {
    assert.equal(validName('  שלום עולם ', RULES), 'שלום עולם')
    assert.equal(validName('مرحبا 2', RULES), 'مرحبا 2')
    assert.equal(validName('Café ☕ Zürich', RULES), 'Café ☕ Zürich')
  })

  it('refuses an empty name and one over 100 characters, and accepts exactly 100', () => {
    assert.equal(refusal('   '), 'client_name_required')
    assert.equal(refusal('x'.repeat(101)), 'client_name_too_long')
    assert.equal(refusal('x'.repeat(100)), undefined)
  })

  it('refuses a name made only of format characters (Unicode Cf: zero-width space, joiners, soft hyphen, BOM) and spaces, as empty: it shows as a blank heading', () => {
    for (const name of ['\u200b\u200b', ' \u200b \u200d ', '\u00ad', '\ufeff\u2060', '\u200c'])
      assert.equal(refusal(name), 'client_name_required', JSON.stringify(name))
    assert.equal(isBlankName('\u200b\u200b'), true)
  })

  it('still accepts a visible name with a joiner inside, as emoji sequences use', () => {
    assert.equal(refusal('Family \u{1F468}\u200d\u{1F469}\u200d\u{1F467}'), undefined)
  })
})
