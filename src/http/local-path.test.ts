import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { safeLocalPath } from './local-path.js'

describe('safeLocalPath', () => {
  it('keeps a local path and its query', () => {
    assert.equal(safeLocalPath('/'), '/')
    assert.equal(safeLocalPath('/settings/clients?page=2&sort=name'), '/settings/clients?page=2&sort=name')
    assert.equal(
      safeLocalPath('/oauth/authorize?client_id=1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb'),
      '/oauth/authorize?client_id=1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb',
    )
  })

  it('drops the fragment and resolves dot segments', () => {
    assert.equal(safeLocalPath('/settings#tokens'), '/settings')
    assert.equal(safeLocalPath('/a/../b'), '/b')
  })

  it('falls back for anything that is not a string', () => {
    for (const value of [undefined, null, 42, ['/'], { path: '/' }]) assert.equal(safeLocalPath(value), '/')
  })

  it('uses the given fallback', () => {
    assert.equal(safeLocalPath('https://evil.example/', '/home'), '/home')
    assert.equal(safeLocalPath(undefined, '/home'), '/home')
  })

  it('refuses addresses that leave the server', () => {
    for (const value of [
      '',
      'https://evil.example/',
      'http://evil.example',
      '//evil.example/x',
      '/\\evil.example',
      '\\\\evil.example',
      'javascript:alert(1)',
      'data:text/html,hi',
      'evil.example/x',
      'settings',
    ]) {
      assert.equal(safeLocalPath(value), '/', value)
    }
  })

  it('refuses control characters, which URL parsers drop to turn /\\t/host into //host', () => {
    for (const value of ['/\t/evil.example', '/\n/evil.example', '/\r\nSet-Cookie: a=b', '/a\u0000b', '/a\u007fb']) {
      assert.equal(safeLocalPath(value), '/', JSON.stringify(value))
    }
  })

  it('refuses paths that only become //host once dot segments are resolved', () => {
    for (const value of ['/.//evil.example', '/..//evil.example/phish', '/a/..//evil.example', '/%2e%2e//evil.example', '/./\\evil.example']) {
      assert.equal(safeLocalPath(value), '/', value)
    }
  })

  it('refuses paths longer than 4096 characters', () => {
    const longest = '/' + 'a'.repeat(4095)
    assert.equal(safeLocalPath(longest), longest)
    assert.equal(safeLocalPath(longest + 'a'), '/')
  })
})
