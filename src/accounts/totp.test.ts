import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { oathtoolCode } from '../testing/totp.js'
import { ACR, acrOf, meetsAcr, parseAmr } from './assurance.js'
import { matchingStep, newTotpSecret, normalizeCode } from './totp.js'

const NOW = 1_750_000_000_000
const STEP = 30_000

describe('authenticator-app codes (RFC 6238), checked against oathtool', () => {
  const secret = newTotpSecret()

  it('accepts the code of this step and of one step either side, naming the step, and nothing further', () => {
    const step = Math.floor(NOW / STEP)
    assert.equal(matchingStep(secret, oathtoolCode(secret, NOW), NOW), step)
    assert.equal(matchingStep(secret, oathtoolCode(secret, NOW - STEP), NOW), step - 1)
    assert.equal(matchingStep(secret, oathtoolCode(secret, NOW + STEP), NOW), step + 1)
    assert.equal(matchingStep(secret, oathtoolCode(secret, NOW - 2 * STEP), NOW), undefined)
    assert.equal(matchingStep(secret, oathtoolCode(secret, NOW + 2 * STEP), NOW), undefined)
  })

  it('refuses the code of another secret, and anything but six digits', () => {
    assert.equal(matchingStep(secret, oathtoolCode(newTotpSecret(), NOW), NOW), undefined)
    assert.equal(matchingStep(secret, '12345', NOW), undefined)
    assert.equal(matchingStep(secret, 'abcdef', NOW), undefined)
  })

  it('reads a code typed with spaces or a dash', () => {
    assert.equal(normalizeCode(' 123 456 '), '123456')
    assert.equal(normalizeCode('123-456'), '123456')
  })
})

describe('how a session was signed in (RFC 8176 amr) and the class it reaches', () => {
  it('counts a session without recorded methods as the password alone', () => {
    assert.deepEqual(parseAmr(null), ['pwd'])
    assert.equal(acrOf(parseAmr(null)), ACR.password)
    assert.equal(acrOf(parseAmr('pwd otp mfa')), ACR.mfa)
  })

  it('orders the classes: two factors meet a request for the password, not the other way round', () => {
    assert.equal(meetsAcr(ACR.mfa, ACR.password), true)
    assert.equal(meetsAcr(ACR.password, ACR.mfa), false)
    assert.equal(meetsAcr(ACR.phishingResistant, ACR.mfa), true)
    assert.equal(meetsAcr(ACR.mfa, ACR.phishingResistant), false)
  })

  it('counts a passkey as phishing-resistant, after the password or alone with the user verified, not alone without', () => {
    assert.equal(acrOf(parseAmr('pwd hwk mfa')), ACR.phishingResistant)
    assert.equal(acrOf(parseAmr('swk user mfa')), ACR.phishingResistant)
    assert.equal(acrOf(parseAmr('hwk user')), ACR.password)
  })
})
