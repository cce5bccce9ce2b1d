import assert from 'node:assert/strict'
import { generateKeyPairSync, KeyObject } from 'node:crypto'
import { describe, it } from 'node:test'
import { decodeProtectedHeader, errors, jwtVerify } from 'jose'
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './algorithms.js'
import { signJwt } from './sign-jwt.js'
import { generateSigningKeyPair } from './signing-keys.js'

/** A pair made as the key ring makes its keys, held as node:crypto holds the private one. */
async function keyPair(alg: SigningAlgorithm): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  const { privateKey, publicKey } = await generateSigningKeyPair(alg)
  return { privateKey: KeyObject.from(privateKey), publicKey: KeyObject.from(publicKey) }
}

describe('signJwt', () => {
  for (const alg of SIGNING_ALGORITHMS) {
    it(`signs ${alg} tokens that jose verifies, with the header naming alg, typ and kid`, async () => {
      const pair = await keyPair(alg)
      const claims = { iss: 'https://issuer.example', sub: '42', aud: ['a', 'b'], exp: 4_000_000_000, scope: 'ünïcode read' }
      const token = await signJwt({ kid: 'key-1', alg, privateKey: pair.privateKey }, 'at+jwt', claims)
      assert.deepEqual(decodeProtectedHeader(token), { alg, typ: 'at+jwt', kid: 'key-1' })
      const { payload } = await jwtVerify(token, pair.publicKey, { algorithms: [alg], typ: 'at+jwt', issuer: 'https://issuer.example', audience: 'b' })
      assert.deepEqual(payload, claims)
    })

    it(`an ${alg} token signed by another key does not verify`, async () => {
      const token = await signJwt({ kid: 'key-1', alg, privateKey: (await keyPair(alg)).privateKey }, 'JWT', { sub: '1' })
      await assert.rejects(jwtVerify(token, (await keyPair(alg)).publicKey, { algorithms: [alg] }), errors.JWSSignatureVerificationFailed)
    })
  }

  it('an ES256 signature is R and S side by side, 64 bytes (RFC 7518 §3.4), not DER', async () => {
    const token = await signJwt({ kid: 'k', alg: 'ES256', privateKey: (await keyPair('ES256')).privateKey }, 'JWT', { sub: '1' })
    assert.equal(Buffer.from(token.split('.')[2]!, 'base64url').length, 64)
  })

  it('a key of another kind than the algorithm names is refused, not used under a header that would lie', async () => {
    const wrong: [SigningAlgorithm, KeyObject][] = [
      ['EdDSA', (await keyPair('RS256')).privateKey],
      ['RS256', (await keyPair('ES256')).privateKey],
      ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
      ['ES256', (await keyPair('ES256')).publicKey],
    ]
    for (const [alg, privateKey] of wrong) {
      await assert.rejects(signJwt({ kid: 'k', alg, privateKey }, 'JWT', { sub: '1' }), {
        name: 'TypeError',
        message: `signing key k is not a private key for ${alg}`,
      })
    }
  })
})
