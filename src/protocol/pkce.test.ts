import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { InvalidGrant, InvalidRequest } from './errors.js'
import { challengeOfRequest, checkCodeVerifier, isValidChallenge, verifyCodeVerifier } from './pkce.js'

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url')

describe('PKCE (RFC 7636)', () => {
  it('accepts the verifier of the RFC 7636 Appendix B example (S256, §4.2)', () => {
    assert.equal(verifyCodeVerifier(VERIFIER, CHALLENGE), true)
  })

  it('refuses any other verifier', () => {
    assert.equal(verifyCodeVerifier(VERIFIER.replace(/.$/, 'j'), CHALLENGE), false)
    assert.equal(verifyCodeVerifier('a'.repeat(43), CHALLENGE), false)
  })

  it('refuses the challenge itself as verifier: the "plain" method is not accepted (RFC 9700 §2.1.1)', () => {
    assert.equal(verifyCodeVerifier(CHALLENGE, CHALLENGE), false)
  })

  it('refuses verifiers outside 43–128 unreserved characters even when their hash matches (§4.1)', () => {
    for (const verifier of [
      'a'.repeat(42),
      'a'.repeat(129),
      `${'a'.repeat(42)}+`,
      `${'a'.repeat(42)}/`,
      `${'a'.repeat(42)}=`,
      `${'a'.repeat(42)} `,
      `${'a'.repeat(42)}é`,
    ]) {
      assert.equal(verifyCodeVerifier(verifier, s256(verifier)), false, verifier)
    }
    for (const verifier of ['a'.repeat(43), 'a'.repeat(128), `${'a'.repeat(39)}-._~`]) {
      assert.equal(verifyCodeVerifier(verifier, s256(verifier)), true, verifier)
    }
  })

  it('takes only 43 base64url characters as an S256 challenge (§4.2)', () => {
    assert.equal(isValidChallenge(CHALLENGE), true)
    for (const challenge of [
      CHALLENGE.slice(1),
      `${CHALLENGE}A`,
      `${CHALLENGE}=`,
      ...['+', '/', '.', '~', '=', ' '].map((c) => CHALLENGE.slice(0, 42) + c),
      '',
    ]) {
      assert.equal(isValidChallenge(challenge), false, challenge)
    }
  })

  const PUBLIC = { isConfidential: false }
  const CONFIDENTIAL = { isConfidential: true }
  const refusedWith = (kind: typeof InvalidRequest | typeof InvalidGrant) => (err: unknown) => err instanceof kind

  it('requires a challenge from public clients and lets confidential ones go without (RFC 9700 §2.1.1)', () => {
    assert.throws(() => challengeOfRequest(PUBLIC, undefined, undefined), refusedWith(InvalidRequest))
    assert.equal(challengeOfRequest(CONFIDENTIAL, undefined, undefined), undefined)
    assert.equal(challengeOfRequest(PUBLIC, CHALLENGE, 'S256'), CHALLENGE)
  })

  it('takes only S256: plain, no method (RFC 7636 §4.3 reads it as plain), or a method without a challenge are refused (RFC 9700 §2.1.1)', () => {
    for (const client of [PUBLIC, CONFIDENTIAL]) {
      for (const [challenge, method] of [
        [CHALLENGE, 'plain'],
        [CHALLENGE, undefined],
        [CHALLENGE, 's256'],
        [undefined, 'S256'],
        ['short', 'S256'],
      ] as const) {
        assert.throws(() => challengeOfRequest(client, challenge, method), refusedWith(InvalidRequest), `${challenge} ${method}`)
      }
    }
  })

  it('refuses a code_verifier for a code issued without a challenge: a PKCE downgrade (RFC 9700 §4.8.2)', () => {
    assert.throws(() => checkCodeVerifier(null, VERIFIER), refusedWith(InvalidGrant))
    assert.doesNotThrow(() => checkCodeVerifier(null, undefined))
  })

  it('requires the matching verifier for a code issued with a challenge (RFC 7636 §4.6)', () => {
    assert.throws(() => checkCodeVerifier(CHALLENGE, undefined), refusedWith(InvalidGrant))
    assert.throws(() => checkCodeVerifier(CHALLENGE, VERIFIER.replace(/.$/, 'j')), refusedWith(InvalidGrant))
    assert.doesNotThrow(() => checkCodeVerifier(CHALLENGE, VERIFIER))
  })
})
