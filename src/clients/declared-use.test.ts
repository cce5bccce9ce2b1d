import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidScope } from '../protocol/errors.js'
import { mayUseGrant, withinDeclaredScope } from './declared-use.js'

const declaring = (grantTypes: string[], scopes?: string[]) => ({ declared: { grantTypes, scopes } })
const byAPerson = { declared: undefined }

describe('a self-registered client uses only what it registered (RFC 7591 §2)', () => {
  it('may use only the grant types it declared: no refresh_token grant without refresh_token', () => {
    assert.equal(mayUseGrant(declaring(['authorization_code']), 'refresh_token'), false)
    assert.equal(mayUseGrant(declaring(['authorization_code']), 'authorization_code'), true)
    assert.equal(mayUseGrant(declaring(['authorization_code', 'refresh_token']), 'refresh_token'), true)
  })

  it('refuses a scope beyond the one it declared with invalid_scope', () => {
    assert.throws(() => withinDeclaredScope(declaring(['authorization_code'], ['read']), ['read', 'write']), InvalidScope)
    assert.deepEqual(withinDeclaredScope(declaring(['authorization_code'], ['openid', 'read']), ['read']), ['read'])
  })

  it('gets its declared scope, not all of the user’s permissions, when it asks for none (RFC 6749 §3.3)', () => {
    assert.deepEqual(withinDeclaredScope(declaring(['authorization_code'], ['read', 'openid']), []), ['openid', 'read'])
  })

  it('limits neither a client that declared no scope nor one a person registered', () => {
    assert.deepEqual(withinDeclaredScope(declaring(['authorization_code']), ['write']), ['write'])
    assert.deepEqual(withinDeclaredScope(byAPerson, []), [])
    assert.equal(mayUseGrant(byAPerson, 'refresh_token'), true)
    assert.equal(mayUseGrant(byAPerson, 'password'), true)
  })
})
