import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidScope } from './errors.js'
import { coversScopes, formatScopes, parseScope, SCOPES, splitScopes } from './scopes.js'

describe('scopes (RFC 6749 §3.3)', () => {
  it('offers exactly the API scopes read and write and the OpenID Connect scopes openid, profile and email', () => {
    assert.deepEqual(Object.keys(SCOPES).sort(), ['email', 'openid', 'profile', 'read', 'write'])
  })

  it('reads a space-delimited list, in any order, without duplicates', () => {
    assert.deepEqual(parseScope(undefined), [])
    assert.deepEqual(parseScope(''), [])
    assert.deepEqual(parseScope('read'), ['read'])
    assert.deepEqual(parseScope('write read'), ['read', 'write'])
    assert.deepEqual(parseScope('read read  write '), ['read', 'write'])
  })

  it('refuses unknown scopes with invalid_scope, case-sensitively and without inherited names', () => {
    for (const scope of ['admin', 'read admin', 'READ', 'Read', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'read,write', 'read\twrite']) {
      assert.throws(
        () => parseScope(scope),
        (err: unknown) => err instanceof InvalidScope && err.error === 'invalid_scope' && err.status === 400,
        JSON.stringify(scope),
      )
    }
  })

  it('stores scopes as the space-delimited string it reads back', () => {
    assert.equal(formatScopes(['read', 'write']), 'read write')
    assert.deepEqual(splitScopes('read write'), ['read', 'write'])
    assert.deepEqual(splitScopes(formatScopes([])), [])
  })

  it('lets a grant cover the same or fewer scopes, never more (RFC 6749 §6)', () => {
    assert.equal(coversScopes(['read', 'write'], ['read']), true)
    assert.equal(coversScopes(['read'], ['read']), true)
    assert.equal(coversScopes(['read'], ['read', 'write']), false)
    assert.equal(coversScopes(['read'], ['write']), false)
  })
})
