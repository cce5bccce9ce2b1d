import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { SignJWT } from 'jose'
import { createUser } from '../accounts/users.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { CLIENT_ASSERTION_TYPE } from '../oauth/client-assertion.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { selfSignedCertificate, startHttpsServer } from '../testing/https.js'
import { gatehouseJson, me, PASSWORD, postOAuth, runGatehouse, startGatehouse, type SpawnedServer } from '../testing/spawned.js'

/**
 * `gatehouse clients create --service` and the key flags, end to end: the
 * command registers the client, and a running Gatehouse on the same
 * database gives it tokens, fetching a jwks_uri over https through the
 * outbound guard.
 */
await forEachDialect('gatehouse clients create --service and key-based client authentication', (dialect) => {
  let database: TestDatabase
  let db: Db
  let dir: string
  let gatehouse: SpawnedServer
  let keys: Awaited<ReturnType<typeof startHttpsServer>>
  let settings: Record<string, string>
  let jwksHits = 0
  const rotating = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-service-'))
    const certificate = selfSignedCertificate(dir)
    keys = await startHttpsServer(certificate, (_req, res) => {
      jwksHits += 1
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' })
      res.end(JSON.stringify({ keys: [{ ...rotating.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig' }] }))
    })
    database = await createTestDatabase(dialect)
    db = await openDatabase(database.url)
    await migrateToLatest(db)
    await createUser(db, { email: 'ada@example.com', name: 'Ada', password: PASSWORD, teamName: 'Engines' }, Date.now())
    settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dir }
    gatehouse = await startGatehouse({
      ...settings,
      NODE_EXTRA_CA_CERTS: certificate.certPath,
      GATEHOUSE_OUTBOUND_ALLOWED_HOSTS: `localhost:${keys.port}`,
    })
  })
  after(async () => {
    await gatehouse?.stop()
    await keys?.close()
    await db?.close()
    await database?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  const create = (...args: string[]) => gatehouseJson(['clients', 'create', '--owner', 'ada@example.com', '--team', 'Engines', ...args], settings)

  function assertion(clientId: string, key: KeyObject, alg: string, kid?: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ iss: clientId, sub: clientId, aud: gatehouse.url, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) })
      .sign(key)
  }

  const withAssertion = async (clientId: string, key: KeyObject, alg: string, kid?: string) =>
    postOAuth(gatehouse.url, '/oauth/token', {
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await assertion(clientId, key, alg, kid),
    })

  it('--service makes a service client with a secret and no redirect URLs; its token acts as its service account', async () => {
    const created = await create('--name', 'Nightly sync', '--service')
    assert.equal(created.service, true)
    assert.deepEqual(created.redirect_uris, [])
    assert.equal(created.token_endpoint_auth_method, 'client_secret_basic')
    assert.ok(created.client_secret)
    const answer = await postOAuth(gatehouse.url, '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: String(created.client_id),
      client_secret: String(created.client_secret),
    })
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    const user = await me(gatehouse.url, String(answer.body.access_token))
    assert.equal(user.body.is_service_account, true)
    assert.equal(user.body.name, 'Nightly sync')
    assert.equal(user.body.id, created.service_account_id)
  })

  it('--jwks-file takes a PEM public key: private_key_jwt, and no secret', async () => {
    const file = join(dir, 'public.pem')
    writeFileSync(file, pem.publicKey.export({ format: 'pem', type: 'spki' }))
    const created = await create('--name', 'Keyed job', '--service', '--jwks-file', file)
    assert.equal(created.token_endpoint_auth_method, 'private_key_jwt')
    assert.equal(created.client_secret, undefined)
    const answer = await withAssertion(String(created.client_id), pem.privateKey, 'RS256')
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
  })

  it('--jwks-uri: the keys are fetched over https through the outbound guard, once, then kept', async () => {
    const created = await create('--name', 'Rotating job', '--service', '--jwks-uri', `https://localhost:${keys.port}/jwks.json`)
    assert.equal(created.jwks_uri, `https://localhost:${keys.port}/jwks.json`)
    const before = jwksHits
    for (let i = 0; i < 2; i++) {
      const answer = await withAssertion(String(created.client_id), rotating.privateKey, 'ES256', 'ec-1')
      assert.equal(answer.status, 200, JSON.stringify(answer.body))
    }
    assert.equal(jwksHits - before, 1, 'fetched once, then taken from the cache')
  })

  it('a jwks_uri on a loopback address the allow-list does not name is never fetched: invalid_client, not a 500', async () => {
    const created = await create('--name', 'Internal keys', '--service', '--jwks-uri', `https://127.0.0.1:${keys.port}/jwks.json`)
    const before = jwksHits
    const answer = await withAssertion(String(created.client_id), rotating.privateKey, 'ES256', 'ec-1')
    assert.equal(answer.status, 401)
    assert.equal(answer.body.error, 'invalid_client')
    assert.match(String(answer.body.error_description), /jwks_uri is not fetched: .*private or loopback/)
    assert.equal(jwksHits, before)
  })

  it('clients auth moves a client to private_key_jwt (its secret stops working) and back (a new secret)', async () => {
    const created = await create('--name', 'Moving job', '--service')
    const file = join(dir, 'moving.pem')
    writeFileSync(file, pem.publicKey.export({ format: 'pem', type: 'spki' }))
    const keyed = await gatehouseJson(
      ['clients', 'auth', '--client-id', String(created.client_id), '--auth-method', 'private_key_jwt', '--jwks-file', file],
      settings,
    )
    assert.equal(keyed.token_endpoint_auth_method, 'private_key_jwt')
    const oldSecret = await postOAuth(gatehouse.url, '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: String(created.client_id),
      client_secret: String(created.client_secret),
    })
    assert.equal(oldSecret.body.error, 'invalid_client')
    assert.equal((await withAssertion(String(created.client_id), pem.privateKey, 'RS256')).status, 200)
    const back = await gatehouseJson(['clients', 'auth', '--client-id', String(created.client_id), '--auth-method', 'client_secret_basic'], settings)
    assert.ok(back.client_secret)
    const newSecret = await postOAuth(gatehouse.url, '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: String(created.client_id),
      client_secret: String(back.client_secret),
    })
    assert.equal(newSecret.status, 200, JSON.stringify(newSecret.body))
  })

  it('refuses flags that do not go together, and keys that are not public keys', async () => {
    const run = (...args: string[]) => runGatehouse(['clients', 'create', '--owner', 'ada@example.com', '--name', 'X', ...args], settings)
    const withRedirect = await run('--service', '--redirect-uri', 'https://app.example.com/cb')
    assert.equal(withRedirect.code, 2)
    assert.match(withRedirect.stderr, /--service clients have no --redirect-uri/)
    const mismatch = await run('--service', '--auth-method', 'client_secret_jwt', '--jwks-uri', 'https://keys.example.com/jwks.json')
    assert.equal(mismatch.code, 2)
    const privateFile = join(dir, 'private.pem')
    writeFileSync(privateFile, pem.privateKey.export({ format: 'pem', type: 'pkcs8' }))
    const leaked = await run('--service', '--jwks-file', privateFile)
    assert.notEqual(leaked.code, 0)
    assert.match(leaked.stderr, /private key/)
    const plainHttp = await run('--service', '--jwks-uri', 'http://keys.example.com/jwks.json')
    assert.notEqual(plainHttp.code, 0)
    assert.match(plainHttp.stderr, /https/)
  })
})
