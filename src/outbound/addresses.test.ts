import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isInternalHost, isPrivateAddress } from './addresses.js'

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
      '::ffff:7f00:1',
      '::7f00:1',
      '64:ff9b::a00:1',
      '2002:7f00:1::1',
      'fd00:ec2::254',
      '100.100.100.200',
      'not-an-ip',
    ]) {
      assert.equal(isPrivateAddress(address), true, address)
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])
      assert.equal(isPrivateAddress(address), false, address)
  })

  it('takes loopback names and private literals for internal hosts, with a trailing dot or in capitals too (RFC 6761 §6.3)', () => {
    for (const host of ['localhost', 'localhost.', 'LocalHost', 'app.localhost.', '127.0.0.1', '[::1]', '10.0.0.5', '[fe80::1]'])
      assert.equal(isInternalHost(host), true, host)
    for (const host of ['example.com', 'example.com.', 'localhost.example.com', '8.8.8.8']) assert.equal(isInternalHost(host), false, host)
  })
})
