import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import type { User } from '../accounts/types.js'
import { deriveKeys } from '../crypto/master-key.js'
import { open } from '../crypto/secret-box.js'
import { rotateSigningKey } from '../keys/signing-keys.js'
import { forEachDialect } from '../testing/dialects.js'
import { PASSWORD, seedClient, seedUser } from '../testing/fixtures.js'
import type { HttpClient } from '../testing/http-client.js'
import { browserFor, codeFor, introspect, postOAuth, redeemCode } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { pruneExpired } from '../tokens/prune.js'

const ISSUER = 'https://id.example.test'
const REDIRECT = 'https://app.example.com/callback'
// Seed 004's lifetime, to show it is configurable.
const TTL = 7200

await forEachDialect('discovery (RFC 8414), JWKS and access-token JWTs (RFC 9068)', (dialect) => {
  let server: TestServer
  let offset = 0
  let ada: User
  let teamId: number
  let browser: HttpClient
  let client: { id: string; secret: string }

  async function jwks(path = '/oauth/jwks'): Promise<JSONWebKeySet> {
    const response = await fetch(new URL(path, server.url))
    assert.equal(response.status, 200)
    return (await response.json()) as JSONWebKeySet
  }

  async function accessToken(): Promise<string> {
    const code = await codeFor(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'read' })
    return (await redeemCode(server, client, code, { redirect_uri: REDIRECT })).access_token
  }

  before(async () => {
    server = await startTestServer(dialect, { issuer: ISSUER, accessTokenTtlSeconds: TTL }, () => Date.now() + offset)
    const created = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
    ada = created.user
    teamId = created.team!.id
    client = await seedClient(server.ctx, created, { name: 'Our App', redirectUris: [REDIRECT], isFirstParty: true })
    browser = await browserFor(server, ada)
  })
  after(() => server.stop())

  it('publishes RFC 8414 metadata whose issuer is exactly GATEHOUSE_ISSUER (RFC 8414 §2, §3)', async () => {
    const response = await fetch(new URL('/.well-known/oauth-authorization-server', server.url))
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    const metadata = (await response.json()) as Record<string, unknown>
    assert.equal(metadata.issuer, ISSUER)
    assert.equal(metadata.authorization_endpoint, `${ISSUER}/oauth/authorize`)
    assert.equal(metadata.token_endpoint, `${ISSUER}/oauth/token`)
    assert.equal(metadata.revocation_endpoint, `${ISSUER}/oauth/revoke`)
    assert.equal(metadata.introspection_endpoint, `${ISSUER}/oauth/introspect`)
    assert.equal(metadata.jwks_uri, `${ISSUER}/oauth/jwks`)
    assert.deepEqual(metadata.response_types_supported, ['code'])
    assert.deepEqual([...(metadata.grant_types_supported as string[])].sort(), [
      'authorization_code',
      'client_credentials',
      'password',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:device_code',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ])
    assert.equal(metadata.device_authorization_endpoint, `${ISSUER}/oauth/device_authorization`)
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256'])
    for (const endpoint of ['token', 'revocation', 'introspection']) {
      const authMethods = metadata[`${endpoint}_endpoint_auth_methods_supported`] as string[]
      for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'])
        assert.ok(authMethods.includes(method), `${endpoint}: ${method}`)
      // RFC 8414 §2: the algorithms client assertions may be signed with, never none.
      const algorithms = metadata[`${endpoint}_endpoint_auth_signing_alg_values_supported`] as string[]
      assert.ok(algorithms.includes('RS256') && algorithms.includes('ES256') && algorithms.includes('HS256'), endpoint)
      assert.ok(!algorithms.includes('none'), endpoint)
    }
    assert.equal(metadata.authorization_response_iss_parameter_supported, true)
    assert.deepEqual(metadata.scopes_supported, ['read', 'write', 'openid', 'profile', 'email'])
  })

  it('publishes only public RSA signing keys, at jwks_uri and at /.well-known/jwks.json (RFC 7517)', async () => {
    const set = await jwks()
    assert.deepEqual(await jwks('/.well-known/jwks.json'), set)
    assert.ok(set.keys.length >= 1)
    for (const key of set.keys) {
      assert.equal(key.kty, 'RSA')
      assert.equal(key.alg, 'RS256')
      assert.equal(key.use, 'sig')
      assert.ok(key.kid && key.n && key.e)
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(secret in key, false, `private member ${secret} published`)
    }
  })

  it('issues RS256 access tokens with typ at+jwt and kid, and the claims iss, aud, client_id, sub, jti, iat, nbf, exp, scopes, team_id (RFC 9068 §2)', async () => {
    const token = await accessToken()
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await jwks()), {
      issuer: ISSUER,
      audience: client.id,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      currentDate: new Date(server.ctx.clock()),
    })
    assert.equal(protectedHeader.alg, 'RS256')
    assert.equal(protectedHeader.typ, 'at+jwt')
    assert.ok(protectedHeader.kid)
    assert.equal(payload.iss, ISSUER)
    assert.equal(payload.aud, client.id)
    assert.equal(payload.client_id, client.id)
    assert.equal(payload.sub, String(ada.id))
    assert.deepEqual(payload.scopes, ['read'])
    assert.equal(payload.team_id, teamId)
    assert.equal(payload.nbf, payload.iat)
    assert.equal(payload.exp! - payload.iat!, TTL)
    assert.ok(Math.abs(payload.iat! - server.ctx.clock() / 1000) < 60)
    assert.match(payload.jti!, /^[A-Za-z0-9_-]{22,}$/)
    const row = await server.ctx.db.kysely.selectFrom('access_tokens').selectAll().where('jti', '=', payload.jti!).executeTakeFirst()
    assert.ok(row, 'every token has a row by jti, so it can be revoked')
    assert.notEqual(decodeProtectedHeader(await accessToken()).kid, undefined)
    assert.notEqual((await accessToken()).split('.')[1], token.split('.')[1], 'every token is new')
  })

  it('answers the password grant of seed 004 with the configured lifetime (GATEHOUSE_ACCESS_TOKEN_TTL)', async () => {
    const { response, body } = await postOAuth(server, '/oauth/token', {
      json: { grant_type: 'password', client_id: client.id, client_secret: client.secret, username: 'ada@example.com', password: PASSWORD },
    })
    assert.equal(response.status, 200, JSON.stringify(body))
    assert.equal(body.expires_in, TTL)
  })

  it('keeps the private signing keys encrypted under GATEHOUSE_SECRET', async () => {
    const rows = await server.ctx.db.kysely.selectFrom('signing_keys').selectAll().execute()
    assert.ok(rows.length >= 1)
    for (const row of rows) {
      assert.doesNotMatch(row.private_key_encrypted, /PRIVATE KEY|^MII/)
      assert.equal('d' in (JSON.parse(row.public_jwk) as object), false)
      assert.match(open(server.ctx.keys.encryption, row.private_key_encrypted), /^-----BEGIN PRIVATE KEY-----/)
      assert.throws(() => open(deriveKeys('another-secret-another-secret-0123456').encryption, row.private_key_encrypted))
    }
  })

  it('after a key rotation, signs with the new key and keeps the old one published until every token it signed has expired', async () => {
    const oldToken = await accessToken()
    const oldKid = decodeProtectedHeader(oldToken).kid!
    const rotatedAt = server.ctx.clock()
    const newKid = await rotateSigningKey(server.ctx.db, server.ctx.keys.encryption, server.ctx.config.signingAlg, rotatedAt)
    assert.notEqual(newKid, oldKid)
    // Time only moves forward here: the key ring caches by the clock.
    // Every process re-reads the keys within 30 s.
    offset += 31_000
    const newToken = await accessToken()
    assert.equal(decodeProtectedHeader(newToken).kid, newKid)
    const set = await jwks()
    assert.deepEqual(set.keys.map((k) => k.kid).sort(), [newKid, oldKid].sort())
    const verifyAt = { issuer: ISSUER, audience: client.id, typ: 'at+jwt', currentDate: new Date(server.ctx.clock()) }
    await jwtVerify(oldToken, createLocalJWKSet(set), verifyAt)
    await jwtVerify(newToken, createLocalJWKSet(set), verifyAt)
    assert.equal((await introspect(server, oldToken, client.id, client.secret)).active, true, 'a token of the retired key still works')

    offset = rotatedAt + TTL * 1000 - 60_000 - Date.now()
    assert.ok(
      (await jwks()).keys.some((k) => k.kid === oldKid),
      'still published while its tokens may live',
    )
    assert.equal((await pruneExpired(server.ctx)).signing_keys, 0)

    offset = rotatedAt + TTL * 1000 + 2 * 60_000 - Date.now()
    assert.deepEqual(
      (await jwks()).keys.map((k) => k.kid),
      [newKid],
      'gone once every token it signed has expired',
    )
    assert.equal((await pruneExpired(server.ctx)).signing_keys, 1)
  })

  it('keeps a retired key published until the tokens this process signed with it before noticing the rotation have expired', async () => {
    offset += 31_000
    // The key ring re-reads the keys now, and then not for another 30 s.
    await jwks()
    await rotateSigningKey(server.ctx.db, server.ctx.keys.encryption, server.ctx.config.signingAlg, server.ctx.clock())
    offset += 20_000
    const token = await accessToken()
    const { kid } = decodeProtectedHeader(token)
    offset = decodeJwt(token).exp! * 1000 - 5_000 - Date.now()
    const set = await jwks()
    assert.ok(
      set.keys.some((k) => k.kid === kid),
      'the key of a token that has not expired yet is no longer published',
    )
    await jwtVerify(token, createLocalJWKSet(set), { issuer: ISSUER, audience: client.id, typ: 'at+jwt', currentDate: new Date(server.ctx.clock()) })
    assert.equal((await introspect(server, token, client.id, client.secret)).active, true)
    await pruneExpired(server.ctx)
    assert.ok(
      (await jwks()).keys.some((k) => k.kid === kid),
      'pruned while its tokens live',
    )
  })
})
