import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cacheLifetimeMs, isMetadataDocumentUrl, isPrivateAddress } from './metadata-document.js'

describe('client ID metadata documents', () => {
  it('refuses private, loopback, link-local, shared, multicast and unspecified addresses, IPv4-mapped ones too (SSRF, OWASP A10:2021)', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ]) {
      assert.equal(isPrivateAddress(address), true, address)
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(address), false, address)
  })

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
