import assert from 'node:assert/strict'
import { it } from 'node:test'
import { randomSecret } from './random.js'

it('randomSecret gives each caller bytes of its own, across the pages it draws from the system', () => {
  const seen = new Set<string>()
  // 32-byte secrets: four pages' worth, so several refills are crossed.
  for (let i = 0; i < 512; i++) {
    const secret = randomSecret(32)
    assert.equal(Buffer.from(secret, 'base64url').length, 32)
    assert.ok(!seen.has(secret))
    seen.add(secret)
  }
  for (const bytes of [1, 15, 4095, 4096, 4097, 10_000]) assert.equal(Buffer.from(randomSecret(bytes), 'base64url').length, bytes)
})
