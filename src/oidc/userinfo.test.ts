import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isForGatehouse } from './userinfo.js'

const ISSUER = 'https://id.example.test'

describe('userinfo takes only tokens whose audience is Gatehouse (RFC 8707 §2, RFC 9068 §4)', () => {
  it('takes a token bound to no resource, to the issuer or to Gatehouse’s own API', () => {
    assert.equal(isForGatehouse(ISSUER, []), true)
    assert.equal(isForGatehouse(ISSUER, [ISSUER]), true)
    assert.equal(isForGatehouse(ISSUER, [`${ISSUER}/api/v2`]), true)
    assert.equal(isForGatehouse(ISSUER, ['https://r.example/mcp', `${ISSUER}/api/v2`]), true)
  })

  it('refuses a token made only for other resources, however close their URI', () => {
    assert.equal(isForGatehouse(ISSUER, ['https://r.example/mcp']), false)
    assert.equal(isForGatehouse(ISSUER, [`${ISSUER}/mcp`, `${ISSUER}.evil.example`]), false)
  })
})
