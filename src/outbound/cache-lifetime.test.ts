import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cacheLifetimeMs } from './cache-lifetime.js'

describe('cache lifetime of a fetched document', () => {
  it('honours max-age up to a day, and no-store and no-cache as "fetch again" (RFC 9111 §5.2.2)', () => {
    assert.equal(cacheLifetimeMs('public, max-age=60'), 60_000)
    assert.equal(cacheLifetimeMs('max-age=31536000'), 24 * 3600 * 1000)
    assert.equal(cacheLifetimeMs('no-store'), 0)
    assert.equal(cacheLifetimeMs('no-cache, max-age=60'), 0)
    assert.equal(cacheLifetimeMs(undefined), 3600 * 1000)
  })
})
