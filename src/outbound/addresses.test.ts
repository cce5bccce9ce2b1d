import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isPrivateAddress } from './addresses.js'

describe('addresses Gatehouse must not reach', () => {
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
})
