import { BlockList, isIP } from 'node:net'
import { isLoopbackHost } from './redirect-uris.js'

/** Addresses Gatehouse must not be made to reach (SSRF): metadata documents are not fetched from them, back-channel URLs may not name them. */
const PRIVATE = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6')
}

/** Private, loopback, link-local, shared, multicast or unspecified: not an address on the public Internet. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4')
  const family = isIP(address)
  if (family === 0) return true
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** Hosts a self-registered client's back-channel URL may not name: Gatehouse itself POSTs there, and must not be made to reach into its own network. */
export function isInternalHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '')
  return isLoopbackHost(hostname) || bare.endsWith('.localhost') || (isIP(bare) !== 0 && isPrivateAddress(bare))
}
