import assert from 'node:assert/strict'
import { it } from 'node:test'
import { PAT_PREFIX, tokenKind } from './token-kind.js'

it('tokenKind tells a personal access token by its prefix, a JWT by its three parts, and anything else is a refresh token', () => {
  assert.equal(tokenKind(`${PAT_PREFIX}abc.def.ghi`), 'personal_access_token')
  assert.equal(tokenKind('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln'), 'oauth_access_token')
  assert.equal(tokenKind('..'), 'oauth_access_token')
  for (const other of ['', 'opaque-refresh-token', 'a.b', 'a.b.c.d', '.', '...', 'a..b..c']) assert.equal(tokenKind(other), 'refresh_token', other)
})
