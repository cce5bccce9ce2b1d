import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { isValidChallenge, verifyCodeVerifier } from './pkce.js'

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
    for (const verifier of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}/`, `${'a'.repeat(42)}=`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}é`]) {
      assert.equal(verifyCodeVerifier(verifier, s256(verifier)), false, verifier)
    }
    for (const verifier of ['a'.repeat(43), 'a'.repeat(128), `${'a'.repeat(39)}-._~`]) {
      assert.equal(verifyCodeVerifier(verifier, s256(verifier)), true, verifier)
    }
  })

  it('takes only 43 base64url characters as an S256 challenge (§4.2)', () => {
    assert.equal(isValidChallenge(CHALLENGE), true)
    for (const challenge of [CHALLENGE.slice(1), `${CHALLENGE}A`, `${CHALLENGE}=`, ...['+', '/', '.', '~', '=', ' '].map((c) => CHALLENGE.slice(0, 42) + c), '']) {
      assert.equal(isValidChallenge(challenge), false, challenge)
    }
  })
})
