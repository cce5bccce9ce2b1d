import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { after, before, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { SignJWT, type JWTPayload } from 'jose'
import { forEachDialect } from '../testing/dialects.js'
import { seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { basicAuth, postOAuth, type Json } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { CLIENT_ASSERTION_TYPE } from './client-assertion.js'

const PYTHON = '/usr/bin/python3'
// Not compiled, so read where it is kept, from the compiled test's place in dist/.
const AUTHLIB_CLIENT = fileURLToPath(new URL('../../../src/oauth/authlib-client-assertion.py', import.meta.url))

/** Why authlib cannot be run here, or undefined when it can; under CI=true a missing authlib fails. */
function authlibSkipReason(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import authlib.oauth2.rfc7523'], { encoding: 'utf8' })
  if (probe.status === 0) return undefined
  const message = `authlib cannot be imported by ${PYTHON}: ${probe.error?.message ?? probe.stderr.trim()}`
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: install the python3-authlib package)`)
  process.stdout.write(`skipping the authlib tests: ${message}\n`)
  return message
}
const authlibSkip = authlibSkipReason()

/** authlib's own RFC 7523 client authentication signs the assertion; the script posts the client_credentials request and prints the answer. */
function authlibTokenRequest(method: 'private_key_jwt' | 'client_secret_jwt', tokenEndpoint: string, clientId: string, key: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [AUTHLIB_CLIENT, method, tokenEndpoint, clientId], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (status) => (status === 0 ? resolve(JSON.parse(stdout) as Json) : reject(new Error(`authlib client exited ${status}: ${stderr}`))))
    child.stdin.end(key)
  })
}

/**
 * Client authentication with signed JWTs (RFC 7523 §2.2 and §3, OpenID
 * Connect Core §9): every broken rule is invalid_client with a description
 * naming it, never a 500 and never a token.
 */
await forEachDialect('private_key_jwt and client_secret_jwt', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let keyed: SeededClient
  let hmac: SeededClient
  let privateKey: KeyObject
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey

  before(async () => {
    server = await startTestServer(dialect)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
    privateKey = pair.privateKey
    keyed = await seedClient(server.ctx, ada, {
      isService: true,
      redirectUris: [],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: 'rsa-1' }] },
    })
    hmac = await seedClient(server.ctx, ada, { isService: true, redirectUris: [], tokenEndpointAuthMethod: 'client_secret_jwt' })
  })
  after(() => server.stop())

  const tokenEndpoint = () => `${server.url}/oauth/token`

  function assertion(claims: JWTPayload = {}, options: { key?: KeyObject | Uint8Array; alg?: string; kid?: string } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ iss: keyed.id, sub: keyed.id, aud: tokenEndpoint(), iat: now, exp: now + 60, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'rsa-1' })
      .sign(options.key ?? privateKey)
  }

  const tokenRequest = (jwt: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: jwt, ...extra },
      headers,
    )

  async function refused(jwt: string, description: RegExp, extra: Record<string, string> = {}): Promise<void> {
    const { response, body } = await tokenRequest(jwt, extra)
    assert.equal(response.status, 401, JSON.stringify(body))
    assert.equal(body.error, 'invalid_client')
    assert.match(String(body.error_description), description)
    assert.equal(body.access_token, undefined)
  }

  it('accepts an assertion whose aud is the issuer or the token endpoint', async () => {
    for (const aud of [tokenEndpoint(), server.url]) {
      const { response, body } = await tokenRequest(await assertion({ aud }))
      assert.equal(response.status, 200, JSON.stringify(body))
      assert.ok(body.access_token)
    }
  })

  it('refuses a jti used before, across requests: replay', async () => {
    const jwt = await assertion()
    assert.equal((await tokenRequest(jwt)).response.status, 200)
    await refused(jwt, /already used/)
    const results = await Promise.all(Array.from({ length: 5 }, async () => tokenRequest(await assertion({ jti: 'raced' }))))
    assert.equal(results.filter((r) => r.response.status === 200).length, 1, 'one of the racing requests with one jti wins')
  })

  it('refuses a wrong aud, a wrong iss or sub, and a client_id that differs from iss', async () => {
    await refused(await assertion({ aud: 'https://other.example.com/token' }), /aud must be the issuer/)
    await refused(await assertion({ sub: 'someone-else' }), /sub must be the client_id/)
    // Claiming to be another client means being checked against that client's keys: they do not match.
    await refused(await assertion({ iss: hmac.id }), /alg must be one of HS256/)
    await refused(await assertion(), /client_id differs/, { client_id: hmac.id })
    await refused(await assertion({ iss: 'no-such-client', sub: 'no-such-client' }), /No client/)
  })

  it('refuses expired assertions, assertions from the future, and ones that live too long', async () => {
    const now = Math.floor(Date.now() / 1000)
    await refused(await assertion({ exp: now - 120, iat: now - 180 }), /expired/)
    await refused(await assertion({ iat: now + 600, exp: now + 660 }), /too far ahead|future/)
    await refused(await assertion({ iat: now + 120, exp: now + 180 }), /future \(iat\)/)
    await refused(await assertion({ nbf: now + 120 }), /not valid yet/)
    await refused(await assertion({ exp: now + 3600 }), /too far ahead/)
    await refused(await assertion({ exp: undefined }), /must have an exp/)
    await refused(await assertion({ jti: undefined }), /must have a jti/)
  })

  it('refuses a key the client did not register, an algorithm not on the list, and something that is not a JWT', async () => {
    await refused(await assertion({}, { key: otherKey }), /signature does not verify/)
    await refused(await assertion({}, { key: otherKey, kid: 'unregistered' }), /No key the client registered/)
    await refused(await assertion({}, { key: new TextEncoder().encode('a'.repeat(64)), alg: 'HS256' }), /alg must be one of RS256/)
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: keyed.id })).toString('base64url')}.`
    await refused(unsigned, /alg must be one of/)
    await refused('not-a-jwt', /not a JWT/)
    await refused(await assertion(), /client_assertion_type must be/, { client_assertion_type: 'urn:example:other' })
  })

  it('refuses an assertion together with a client secret: one method at a time (RFC 6749 §2.3)', async () => {
    const { response, body } = await tokenRequest(await assertion(), {}, { authorization: basicAuth(hmac.id, hmac.secret) })
    assert.equal(response.status, 400)
    assert.equal(body.error, 'invalid_request')
  })

  it('client_secret_jwt: an HMAC with the client secret, and nothing else, proves the client', async () => {
    const now = Math.floor(Date.now() / 1000)
    const sign = (secret: string, claims: JWTPayload = {}) =>
      new SignJWT({ iss: hmac.id, sub: hmac.id, aud: tokenEndpoint(), exp: now + 60, jti: randomUUID(), ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(secret))
    const ok = await tokenRequest(await sign(hmac.secret))
    assert.equal(ok.response.status, 200, JSON.stringify(ok.body))
    const wrong = await tokenRequest(await sign('not the secret at all, but long enough'))
    assert.equal(wrong.body.error, 'invalid_client')
    assert.match(String(wrong.body.error_description), /signature does not verify with the client's registered secret/)
    const plain = await postOAuth(server, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(hmac.id, hmac.secret) })
    assert.equal(plain.body.error, 'invalid_client', 'a client registered for client_secret_jwt does not send its secret')
  })

  it('works at the introspection and revocation endpoints, with their URL as aud', async () => {
    const { body } = await tokenRequest(await assertion())
    const token = String(body.access_token)
    const introspection = await postOAuth(server, '/oauth/introspect', {
      token,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await assertion({ aud: `${server.url}/oauth/introspect` }),
    })
    assert.equal(introspection.body.active, true)
    const revocation = await postOAuth(server, '/oauth/revoke', { token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion() })
    assert.equal(revocation.response.status, 200)
    const again = await postOAuth(server, '/oauth/introspect', { token, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await assertion() })
    assert.equal(again.body.active, false)
  })

  it('authlib (Python) authenticates with private_key_jwt and client_secret_jwt', { skip: authlibSkip ?? false }, async () => {
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    const withKey = await authlibTokenRequest('private_key_jwt', tokenEndpoint(), keyed.id, pem)
    assert.equal(withKey.status, 200, JSON.stringify(withKey))
    assert.ok((withKey.body as Json).access_token)
    const withSecret = await authlibTokenRequest('client_secret_jwt', tokenEndpoint(), hmac.id, hmac.secret)
    assert.equal(withSecret.status, 200, JSON.stringify(withSecret))
    const wrongKey = await authlibTokenRequest('private_key_jwt', tokenEndpoint(), keyed.id, otherKey.export({ format: 'pem', type: 'pkcs8' }).toString())
    assert.equal(wrongKey.status, 401)
    assert.equal((wrongKey.body as Json).error, 'invalid_client')
  })
})
