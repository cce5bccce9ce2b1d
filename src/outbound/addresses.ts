import { BlockList, isIP } from 'node:net'

/**
 * Addresses Gatehouse must not be made to reach (SSRF, OWASP A10:2021): its
 * own machine, the networks beside it, and the cloud metadata services on
 * them. Outbound calls made on someone else's say-so connect only elsewhere.
 */
const PRIVATE_IPV4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  // Shared address space (RFC 6598): carrier-grade NAT, and some clouds' metadata services.
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  // Link-local (RFC 3927), where 169.254.169.254 answers with cloud credentials.
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  // Multicast, reserved and broadcast.
  ['224.0.0.0', 3],
]

const PRIVATE = new BlockList()
for (const [net, prefix] of PRIVATE_IPV4) PRIVATE.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  // Unique-local (RFC 4193), where fd00:ec2::254 answers with cloud credentials.
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6')
}

/**
 * IPv6 forms that carry an IPv4 address and reach it: IPv4-compatible
 * (RFC 4291 §2.5.5.1), NAT64 (RFC 6052) and 6to4 (RFC 3056). The BlockList
 * already matches IPv4-mapped addresses (::ffff:a.b.c.d) against the IPv4 rules.
 */
const hextets = (net: string) => {
  const [a, b, c, d] = net.split('.').map(Number) as [number, number, number, number]
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
}
for (const [net, prefix] of PRIVATE_IPV4) {
  const [high, low] = hextets(net)
  PRIVATE.addSubnet(`::${high}:${low}`, 96 + prefix, 'ipv6')
  PRIVATE.addSubnet(`64:ff9b::${high}:${low}`, 96 + prefix, 'ipv6')
  PRIVATE.addSubnet(`2002:${high}:${low}::`, 16 + prefix, 'ipv6')
}

/** Private, loopback, link-local, shared, documentation, multicast or unspecified: not an address on the public Internet. Anything not an address is refused too. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/** The host as DNS and the allow-list know it: lower case, without IPv6 brackets or the root's trailing dot (`localhost.` is `localhost`). */
export function normalHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
}

/**
 * Hosts a URL that Gatehouse calls may not name when someone other than an
 * operator sets it: loopback names (RFC 6761 §6.3) and private address
 * literals. Names are checked again, resolved, when the connection is made.
 */
export function isInternalHost(hostname: string): boolean {
  const host = normalHost(hostname)
  return host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host))
}
