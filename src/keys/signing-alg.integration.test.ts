import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, it } from 'node:test'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWK } from 'jose'
import { createTokenVerifier } from '../resource-server/index.js'
import { forEachDialect } from '../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededUser } from '../testing/fixtures.js'
import { browserFor, introspect, refreshExchange, type Json } from '../testing/oauth.js'
import { openIdTokens, verifyIdToken, type TestClient } from '../testing/openid.js'
import { meStatus } from '../testing/portal.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { pruneExpired } from '../tokens/prune.js'
import { idTokenAlgorithms, SIGNING_ALGORITHMS, type SigningAlgorithm } from './algorithms.js'
import { KEY_REFRESH_MS } from './signing-keys.js'

const ISSUER = 'https://id.example.test'
const ACCESS_TOKEN_TTL = 3600
const ID_TOKEN_TTL = 600

async function jwksOf(server: TestServer): Promise<JSONWebKeySet> {
  const response = await fetch(new URL('/oauth/jwks', server.url))
  assert.equal(response.status, 200)
  return (await response.json()) as JSONWebKeySet
}

async function metadataOf(server: TestServer, path: string): Promise<Json> {
  return (await (await fetch(new URL(path, server.url))).json()) as Json
}

/** Discovery's algorithms, the same in both documents: those of access tokens, and those of ID tokens. */
async function signingAlgorithmsAnnounced(server: TestServer): Promise<{ accessTokens: unknown[]; idTokens: unknown[] }> {
  const oauth = await metadataOf(server, '/.well-known/oauth-authorization-server')
  const oidc = await metadataOf(server, '/.well-known/openid-configuration')
  assert.deepEqual(oidc.access_token_signing_alg_values_supported, oauth.access_token_signing_alg_values_supported)
  return { accessTokens: oidc.access_token_signing_alg_values_supported as unknown[], idTokens: oidc.id_token_signing_alg_values_supported as unknown[] }
}

/** What a relying party computes independently (OpenID Connect Core §3.1.3.6; SHA-512 for Ed25519). */
function expectedAtHash(accessToken: string, alg: SigningAlgorithm): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256')
    .update(accessToken)
    .digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

async function seeded(server: TestServer): Promise<{ owner: SeededUser; client: TestClient; service: { id: string; secret: string } }> {
  const owner = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
  const { id, secret } = await seedClient(server.ctx, owner, { name: 'Sign-in App' })
  const service = await seedClient(server.ctx, owner, { name: 'Billing API', isFirstParty: true })
  return { owner, client: { id, secret, redirectUri: REDIRECT }, service }
}

for (const alg of SIGNING_ALGORITHMS) {
  await forEachDialect(`GATEHOUSE_SIGNING_ALG=${alg}`, (dialect) => {
    let server: TestServer
    let owner: SeededUser
    let client: TestClient
    let service: { id: string; secret: string }

    before(async () => {
      server = await startTestServer(dialect, { signingAlg: alg })
      ;({ owner, client, service } = await seeded(server))
    })
    after(() => server.stop())

    it(`signs access tokens with ${alg} under a published key that jose verifies, and /api/v2/me accepts them`, async () => {
      const tokens = await openIdTokens(server, await browserFor(server, owner.user), client, { scope: 'openid read' })
      const accessToken = String(tokens.access_token)
      const header = decodeProtectedHeader(accessToken)
      assert.equal(header.alg, alg)
      const set = await jwksOf(server)
      assert.deepEqual(set.keys.map((k) => k.alg).sort(), [...idTokenAlgorithms(alg)].sort(), 'a key for access tokens, and an RS256 one for ID tokens')
      const key = set.keys.find((k) => k.kid === header.kid)!
      assert.equal('d' in key, false, 'no private part published')
      const { payload } = await jwtVerify(accessToken, createLocalJWKSet(set), {
        issuer: server.ctx.config.issuer,
        audience: client.id,
        typ: 'at+jwt',
        algorithms: [alg],
      })
      assert.equal(payload.sub, String(owner.user.id))
      assert.equal(await meStatus(server, accessToken), 200)
      const verified = await createTokenVerifier({ issuer: server.ctx.config.issuer, clientId: service.id, clientSecret: service.secret }).verify(accessToken)
      assert.equal(verified.userId, owner.user.id, 'the resource-server kit accepts it')
    })

    it(`oidcc-idtoken-rs256: signs ID tokens with RS256 by default, verified by jose, and discovery lists RS256 first (OpenID Connect Core §15.1, Discovery 1.0 §3)`, async () => {
      const tokens = await openIdTokens(server, await browserFor(server, owner.user), client, { scope: 'openid', nonce: 'n-1' })
      const set = createLocalJWKSet(await jwksOf(server))
      const { payload, protectedHeader } = await jwtVerify(String(tokens.id_token), set, {
        issuer: server.ctx.config.issuer,
        audience: client.id,
        algorithms: ['RS256'],
      })
      assert.equal(protectedHeader.alg, 'RS256')
      assert.equal(payload.at_hash, expectedAtHash(String(tokens.access_token), 'RS256'))
      assert.equal(decodeProtectedHeader(String(tokens.access_token)).alg, alg, 'access tokens keep GATEHOUSE_SIGNING_ALG')
      assert.deepEqual(await signingAlgorithmsAnnounced(server), { accessTokens: [...new Set([alg, 'RS256'])], idTokens: idTokenAlgorithms(alg) })
      assert.equal((await signingAlgorithmsAnnounced(server)).idTokens[0], 'RS256')
    })

    it(`signs ID tokens with ${alg} for a client registered with id_token_signed_response_alg=${alg}, with at_hash by that algorithm's hash (OpenID Connect Registration §2)`, async () => {
      const { id, secret } = await seedClient(server.ctx, owner, { name: `${alg} App`, idTokenSignedResponseAlg: alg })
      const chosen = { id, secret, redirectUri: REDIRECT }
      const tokens = await openIdTokens(server, await browserFor(server, owner.user), chosen, { scope: 'openid', nonce: 'n-2' })
      assert.equal(decodeProtectedHeader(String(tokens.id_token)).alg, alg)
      const claims = await verifyIdToken(server, tokens.id_token, chosen.id, alg)
      assert.equal(claims.at_hash, expectedAtHash(String(tokens.access_token), alg))
    })
  })
}

await forEachDialect('changing GATEHOUSE_SIGNING_ALG from ES256 to EdDSA', (dialect) => {
  let server: TestServer
  let offset = 0
  let owner: SeededUser
  let client: TestClient

  const tokensNow = async () => openIdTokens(server, await browserFor(server, owner.user), client, { scope: 'openid read' })
  const kidsAndAlgs = async () => (await jwksOf(server)).keys.map((k: JWK) => `${k.kid} ${k.alg} ${k.use}`).sort()
  const sorted = (values: unknown[]) => [...values].sort()

  before(async () => {
    server = await startTestServer(
      dialect,
      { issuer: ISSUER, accessTokenTtlSeconds: ACCESS_TOKEN_TTL, idTokenTtlSeconds: ID_TOKEN_TTL, signingAlg: 'ES256' },
      () => Date.now() + offset,
    )
    ;({ owner, client } = await seeded(server))
  })
  after(() => server.stop())

  it('rotates to an EdDSA key on restart, keeps the ES256 key published while its tokens live, then drops it; the RS256 ID token key stays', async () => {
    const before = await tokensNow()
    const oldAccess = String(before.access_token)
    const oldKid = decodeProtectedHeader(oldAccess).kid!
    assert.equal(decodeProtectedHeader(oldAccess).alg, 'ES256')
    const idTokenKid = decodeProtectedHeader(String(before.id_token)).kid!
    assert.equal(decodeProtectedHeader(String(before.id_token)).alg, 'RS256')
    const rotatedAt = server.ctx.clock()

    server = await server.restart({ signingAlg: 'EdDSA' })
    const after = await tokensNow()
    const newAccess = String(after.access_token)
    const newKid = decodeProtectedHeader(newAccess).kid!
    assert.equal(decodeProtectedHeader(newAccess).alg, 'EdDSA')
    assert.deepEqual(decodeProtectedHeader(String(after.id_token)), { alg: 'RS256', typ: 'JWT', kid: idTokenKid }, 'ID tokens keep their RS256 key')
    assert.notEqual(newKid, oldKid)
    assert.deepEqual(await kidsAndAlgs(), [`${oldKid} ES256 sig`, `${idTokenKid} RS256 sig`, `${newKid} EdDSA sig`].sort())
    const announced = await signingAlgorithmsAnnounced(server)
    assert.equal(announced.accessTokens[0], 'EdDSA')
    assert.deepEqual(sorted(announced.accessTokens), ['ES256', 'EdDSA', 'RS256'])
    assert.deepEqual(announced.idTokens, ['RS256', 'EdDSA'])

    const set = createLocalJWKSet(await jwksOf(server))
    const verifyAt = { issuer: ISSUER, audience: client.id, typ: 'at+jwt', currentDate: new Date(server.ctx.clock()) }
    await jwtVerify(oldAccess, set, verifyAt)
    await jwtVerify(newAccess, set, verifyAt)
    await jwtVerify(String(before.id_token), set, { issuer: ISSUER, audience: client.id, algorithms: ['RS256'], currentDate: new Date(server.ctx.clock()) })
    assert.equal(await meStatus(server, oldAccess), 200, 'a token of the ES256 key still works')
    assert.equal((await introspect(server, oldAccess, client.id, client.secret)).active, true)
    const { response, body } = await refreshExchange(server, client, String(before.refresh_token))
    assert.equal(response.status, 200, JSON.stringify(body))
    assert.equal(decodeProtectedHeader(String(body.access_token)).alg, 'EdDSA', 'a refresh issues tokens of the new algorithm')

    server = await server.restart({ signingAlg: 'EdDSA' })
    assert.deepEqual(
      await kidsAndAlgs(),
      [`${oldKid} ES256 sig`, `${idTokenKid} RS256 sig`, `${newKid} EdDSA sig`].sort(),
      'a restart with the same algorithm makes no new key',
    )

    offset = rotatedAt + ACCESS_TOKEN_TTL * 1000 - 60_000 - Date.now()
    assert.ok((await kidsAndAlgs()).includes(`${oldKid} ES256 sig`), 'still published while its tokens may live')
    assert.equal((await pruneExpired(server.ctx)).signing_keys, 0)

    offset = rotatedAt + ACCESS_TOKEN_TTL * 1000 + KEY_REFRESH_MS + 60_000 - Date.now()
    assert.deepEqual(await kidsAndAlgs(), [`${idTokenKid} RS256 sig`, `${newKid} EdDSA sig`].sort(), 'gone once every token it signed has expired')
    assert.deepEqual(sorted((await signingAlgorithmsAnnounced(server)).accessTokens), ['EdDSA', 'RS256'])
    assert.equal((await pruneExpired(server.ctx)).signing_keys, 1)
  })
})

await forEachDialect('dynamic registration with GATEHOUSE_SIGNING_ALG=EdDSA', (dialect) => {
  let server: TestServer

  before(async () => {
    server = await startTestServer(dialect, { signingAlg: 'EdDSA', clientRegistration: 'open' })
  })
  after(() => server.stop())

  it('takes id_token_signed_response_alg among the supported values, echoes it, and refuses others with invalid_client_metadata (OpenID Connect Registration §2)', async () => {
    const register = async (body: Json) =>
      fetch(new URL('/oauth/register', server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const base = { redirect_uris: ['https://rp.example.com/cb'], token_endpoint_auth_method: 'none' }
    for (const alg of ['RS256', 'EdDSA']) {
      const response = await register({ ...base, id_token_signed_response_alg: alg })
      assert.equal(response.status, 201)
      assert.equal(((await response.json()) as Json).id_token_signed_response_alg, alg)
    }
    const refused = await register({ ...base, id_token_signed_response_alg: 'ES256' })
    assert.equal(refused.status, 400)
    assert.equal(((await refused.json()) as Json).error, 'invalid_client_metadata')
  })
})
