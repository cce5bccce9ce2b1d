import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cacheLifetimeMs, isMetadataDocumentUrl } from './metadata-document.js'

describe('client ID metadata documents', () => {
  it('takes only https URLs with a path as metadata document client_ids', () => {
    assert.equal(isMetadataDocumentUrl('https://agent.example.com/client.json'), true)
    for (const id of [
      'http://agent.example.com/client.json',
      'https://agent.example.com/',
      'https://agent.example.com',
      'https://agent.example.com/c#x',
      'https://u:p@agent.example.com/c',
      'b7a7c3e2-uuid',
    ]) {
      assert.equal(isMetadataDocumentUrl(id), false, id)
    }
  })

  it('honours max-age up to a day, and no-store and no-cache as "fetch again" (RFC 9111 §5.2.2)', () => {
    assert.equal(cacheLifetimeMs('public, max-age=60'), 60_000)
    assert.equal(cacheLifetimeMs('max-age=31536000'), 24 * 3600 * 1000)
    assert.equal(cacheLifetimeMs('no-store'), 0)
    assert.equal(cacheLifetimeMs('no-cache, max-age=60'), 0)
    assert.equal(cacheLifetimeMs(undefined), 3600 * 1000)
  })
})
