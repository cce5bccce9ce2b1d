import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { canonicalUserCode, displayUserCode, newUserCode, USER_CODE_ALPHABET } from './user-code.js'

describe('device user codes (RFC 8628 §6.1)', () => {
  it('are eight letters of a 20-letter alphabet without vowels', () => {
    assert.equal(USER_CODE_ALPHABET.length, 20)
    assert.doesNotMatch(USER_CODE_ALPHABET, /[AEIOUY]/)
    for (let i = 0; i < 200; i++) assert.match(newUserCode(), /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/)
  })

  it('use every letter of the alphabet', () => {
    const seen = new Set([...Array.from({ length: 100 }, newUserCode).join('')])
    assert.equal(seen.size, 20)
  })

  it('are shown as two groups of four', () => {
    assert.equal(displayUserCode('WDJBMJHT'), 'WDJB-MJHT')
  })

  it('are read without regard to case, dashes or spaces', () => {
    for (const typed of ['WDJB-MJHT', 'wdjb-mjht', 'wdjbmjht', ' WdJb MjHt ', 'WD-JB-MJ-HT']) assert.equal(canonicalUserCode(typed), 'WDJBMJHT')
  })

  it('refuse what cannot be a code: wrong length, vowels, digits, other characters', () => {
    for (const typed of ['', 'WDJB-MJH', 'WDJB-MJHTX', 'WAJB-MJHT', 'WDJB-MJH1', 'WDJB_MJHT', 'WDJBMJHTÄ'])
      assert.equal(canonicalUserCode(typed), undefined, typed)
  })
})
