import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LOGIN_REQUESTED, loginRequestedAt, loginRequestedMark } from './login-requested.js'

const keys = { csrf: Buffer.alloc(32, 1) }
const at = (now: number) => ({ keys, clock: () => now })
const T = 1_750_000_000_000

describe('the mark of a login the request asked for', () => {
  it('reads back the time it was made', () => {
    const mark = loginRequestedMark(at(T), 'app')
    assert.equal(loginRequestedAt(at(T + 1000), 'app', { [LOGIN_REQUESTED]: mark }), T)
  })

  it('is refused for another client, with an earlier time, or without its signature', () => {
    const mark = loginRequestedMark(at(T), 'app')
    const [, mac] = mark.split('.')
    assert.equal(loginRequestedAt(at(T), 'other', { [LOGIN_REQUESTED]: mark }), undefined)
    assert.equal(loginRequestedAt(at(T), 'app', { [LOGIN_REQUESTED]: `${T - 60_000}.${mac}` }), undefined)
    assert.equal(loginRequestedAt(at(T), 'app', { [LOGIN_REQUESTED]: String(T) }), undefined)
    assert.equal(loginRequestedAt(at(T), 'app', {}), undefined)
  })

  it('lasts ten minutes', () => {
    const mark = loginRequestedMark(at(T), 'app')
    assert.equal(loginRequestedAt(at(T + 10 * 60_000), 'app', { [LOGIN_REQUESTED]: mark }), T)
    assert.equal(loginRequestedAt(at(T + 10 * 60_000 + 1), 'app', { [LOGIN_REQUESTED]: mark }), undefined)
  })
})
