import { sign, type KeyObject } from 'node:crypto'
import type { SigningAlgorithm } from './algorithms.js'
import type { SigningKey } from './signing-keys.js'

/** The digest node:crypto signs with for each JWS `alg` (RFC 7518 §3.1, RFC 8037 §3.1: Ed25519 takes none). */
const DIGEST: Record<SigningAlgorithm, string | null> = { RS256: 'sha256', ES256: 'sha256', EdDSA: null }

/** The key each `alg` needs: node:crypto would sign with any private key, and the header would then lie. */
function fits(alg: SigningAlgorithm, key: KeyObject): boolean {
  if (alg === 'RS256') return key.asymmetricKeyType === 'rsa'
  if (alg === 'ES256') return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
  return key.asymmetricKeyType === 'ed25519'
}

function keyFor(alg: SigningAlgorithm, key: KeyObject) {
  // RFC 7518 §3.4: an ECDSA JWS signature is R and S side by side, not DER.
  return alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key
}

function encode(part: object): string {
  return Buffer.from(JSON.stringify(part)).toString('base64url')
}

/**
 * A JWT in the JWS compact serialisation (RFC 7515 §7.1), signed by
 * node:crypto's callback `sign` on the thread pool. WebCrypto's `sign`,
 * which jose uses, costs the event loop about twice as much per signature
 * (docs/performance.md); verification stays with jose.
 */
export function signJwt(key: SigningKey, typ: string, claims: Record<string, unknown>): Promise<string> {
  if (key.privateKey.type !== 'private' || !fits(key.alg, key.privateKey)) {
    return Promise.reject(new TypeError(`signing key ${key.kid} is not a private key for ${key.alg}`))
  }
  const input = `${encode({ alg: key.alg, typ, kid: key.kid })}.${encode(claims)}`
  return new Promise((resolve, reject) => {
    sign(DIGEST[key.alg], Buffer.from(input), keyFor(key.alg, key.privateKey), (err, signature) => {
      if (err) reject(err)
      else resolve(`${input}.${signature.toString('base64url')}`)
    })
  })
}
