import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { createUser } from '../accounts/users.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { selfSignedCertificate, startHttpsServer } from '../testing/https.js'
import type { HttpClient } from '../testing/http-client.js'
import { authorizePath, consentFields, pkceExchange, pkcePair, redirectOf } from '../testing/oauth.js'
import { logInAt, PASSWORD, startGatehouse, type SpawnedServer } from '../testing/spawned.js'

const LOOPBACK = 'http://127.0.0.1:47011/callback'
const BYE = 'http://127.0.0.1:47011/bye'

await forEachDialect('client ID metadata documents, fetched over https', (dialect) => {
  let database: TestDatabase
  let dir: string
  let db: Db
  let documents: Awaited<ReturnType<typeof startHttpsServer>>
  let gatehouse: SpawnedServer
  let browser: HttpClient
  let base: string
  const hits = new Map<string, number>()

  function document(path: string, extra: Record<string, unknown> = {}) {
    return {
      client_id: `${base}${path}`,
      client_name: 'Doc Agent',
      redirect_uris: [LOOPBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      ...extra,
    }
  }

  function serve(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/'
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const json = (body: unknown, cacheControl = 'max-age=60') => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': cacheControl })
      res.end(JSON.stringify(body))
    }
    if (path === '/good.json') return json(document(path))
    if (path === '/nostore.json') return json(document(path), 'no-store')
    if (path === '/year.json') return json(document(path), 'max-age=31536000')
    if (path === '/mismatch.json') return json(document('/good.json'))
    if (path === '/secret.json') return json(document(path, { client_secret: 'shh' }))
    if (path === '/basic.json') return json(document(path, { token_endpoint_auth_method: 'client_secret_basic' }))
    if (path === '/bad-redirect.json') return json(document(path, { redirect_uris: ['javascript:alert(1)'] }))
    if (path === '/logout.json') return json(document(path, { post_logout_redirect_uris: [BYE] }))
    if (path === '/bad-logout.json') return json(document(path, { post_logout_redirect_uris: ['javascript:alert(1)'] }))
    if (path === '/big.json') return json(document(path, { software_id: 'x'.repeat(8000) }))
    if (path === '/redirect.json') {
      res.writeHead(302, { location: '/good.json' })
      return void res.end()
    }
    if (path === '/text.json') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      return void res.end('hello')
    }
    // /slow.json: never answers; Gatehouse must give up on its own.
    if (path === '/slow.json') return
    res.writeHead(404)
    res.end()
  }

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-cimd-'))
      const certificate = selfSignedCertificate(dir)
      documents = await startHttpsServer(certificate, serve)
      base = `https://localhost:${documents.port}`
      database = await createTestDatabase(dialect)
      db = await openDatabase(database.url)
      await migrateToLatest(db)
      await createUser(db, { email: 'ada@example.com', name: 'Ada', password: PASSWORD, teamName: 'Engines' }, Date.now())
      // NODE_EXTRA_CA_CERTS is read when a process starts: the server trusts the test's certificate like an operator's own CA.
      gatehouse = await startGatehouse({
        DATABASE_URL: database.url,
        GATEHOUSE_DATA_DIR: dir,
        NODE_EXTRA_CA_CERTS: certificate.certPath,
        GATEHOUSE_CLIENT_METADATA_ALLOWED_HOSTS: `localhost:${documents.port}`,
      })
      browser = await logInAt(gatehouse.url, 'ada@example.com')
    },
    { timeout: 60_000 },
  )

  after(
    async () => {
      await gatehouse?.stop()
      await documents?.close()
      await db?.close()
      await database?.drop()
      rmSync(dir, { recursive: true, force: true })
    },
    { timeout: 30_000 },
  )

  function request(clientId: string, redirectUri = LOOPBACK, scope?: string) {
    const pkce = pkcePair()
    return {
      pkce,
      path: authorizePath({
        client_id: clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        state: 's',
        scope,
      }),
    }
  }

  async function refusal(clientId: string, redirectUri = LOOPBACK): Promise<string> {
    const page = await browser.get(request(clientId, redirectUri).path)
    assert.equal(page.status, 400, clientId)
    return page.text()
  }

  it('resolves an https client_id by fetching its document: the name beside the URL’s host, unverified, public with PKCE, tokens issued', async () => {
    const metadata = (await (await fetch(`${gatehouse.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    assert.equal(metadata.client_id_metadata_document_supported, true)
    const clientId = `${base}/good.json`
    const { pkce, path } = request(clientId)
    const page = await browser.get(path)
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(html, /data-testid="client-name"><bdi>Doc Agent</)
    assert.match(html, new RegExp(`data-testid="client-id-host">localhost:${documents.port}<`))
    assert.match(html, /registered itself and is not verified/)
    assert.match(html, /This app runs on your own computer/)
    const back = redirectOf(await browser.postForm('/oauth/authorize', { ...consentFields(html), decision: 'approve' }))
    const token = await pkceExchange(gatehouse, { clientId, code: back.searchParams.get('code')!, redirectUri: LOOPBACK, verifier: pkce.verifier })
    assert.equal(token.response.status, 200)
    // The consent page shows again: nobody vouched for this client.
    assert.equal((await browser.get(request(clientId).path)).status, 200)
  })

  it('binds redirect URIs like registered ones: one the document does not list gets the error page', async () => {
    const html = await refusal(`${base}/good.json`, 'http://127.0.0.1:47011/elsewhere')
    assert.match(html, /redirect_uri is not registered/)
  })

  it('keeps a document for its max-age, fetches a no-store one every time, and keeps none longer than a day', async () => {
    const before = hits.get('/good.json') ?? 0
    await browser.get(request(`${base}/good.json`).path)
    assert.equal(hits.get('/good.json'), before)
    await browser.get(request(`${base}/nostore.json`).path)
    await browser.get(request(`${base}/nostore.json`).path)
    assert.equal(hits.get('/nostore.json'), 2)
    const started = Date.now()
    assert.equal((await browser.get(request(`${base}/year.json`).path)).status, 200)
    const row = await db.kysely.selectFrom('clients').select('metadata_expires_at').where('id', '=', `${base}/year.json`).executeTakeFirstOrThrow()
    assert.ok(Number(row.metadata_expires_at) <= Date.now() + 24 * 3600 * 1000)
    assert.ok(Number(row.metadata_expires_at) >= started + 23 * 3600 * 1000)
  })

  it('refuses a document whose client_id is not its URL, that holds a secret or another auth method, or bad redirect URIs', async () => {
    assert.match(await refusal(`${base}/mismatch.json`), /client_id is not the URL/)
    assert.match(await refusal(`${base}/secret.json`), /must not contain a client secret/)
    assert.match(await refusal(`${base}/basic.json`), /token_endpoint_auth_method must be none/)
    assert.equal((await browser.get(request(`${base}/bad-redirect.json`, 'javascript:alert(1)').path)).status, 400)
  })

  it('refuses a document that is too large, not JSON, redirected, missing or too slow', async () => {
    assert.match(await refusal(`${base}/big.json`), /larger than/)
    assert.match(await refusal(`${base}/text.json`), /not JSON/)
    assert.match(await refusal(`${base}/redirect.json`), /redirects are not followed/)
    assert.match(await refusal(`${base}/missing.json`), /HTTP 404/)
    assert.match(await refusal(`${base}/slow.json`), /did not arrive within/)
  })

  it('refuses documents on private or loopback addresses unless the host is allowed, checked after DNS resolution (SSRF)', async () => {
    assert.match(await refusal(`https://127.0.0.1:${documents.port}/good.json`), /private or loopback/)
    // localhost on another port is not on the allow-list: the name resolves to a loopback address, and that is refused.
    assert.match(await refusal(`https://localhost:1/good.json`), /resolves only to private or loopback addresses/)
    assert.match(await refusal(`https://10.0.0.1/client.json`), /private or loopback/)
  })

  it('takes post_logout_redirect_uris from the document, checked like dynamic registration: RP-initiated logout sends the user back there', async () => {
    assert.match(await refusal(`${base}/bad-logout.json`), /cannot be used: Redirect URLs must use https.*javascript:alert\(1\)/)
    const clientId = `${base}/logout.json`
    const user = await logInAt(gatehouse.url, 'ada@example.com')
    const { pkce, path } = request(clientId, LOOPBACK, 'openid')
    const page = await user.get(path)
    assert.equal(page.status, 200)
    const back = redirectOf(await user.postForm('/oauth/authorize', { ...consentFields(await page.text()), decision: 'approve' }))
    const token = await pkceExchange(gatehouse, { clientId, code: back.searchParams.get('code')!, redirectUri: LOOPBACK, verifier: pkce.verifier })
    assert.equal(token.response.status, 200)
    const idToken = String(token.body.id_token)
    const elsewhere = await user.get(`/oauth/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: LOOPBACK })}`)
    assert.equal(elsewhere.status, 400, 'a redirect URI is not a post-logout URI')
    const logout = await user.get(`/oauth/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: BYE, state: 'bye' })}`)
    assert.equal(logout.status, 303)
    assert.equal(logout.headers.get('location'), `${BYE}?state=bye`)
  })
})
