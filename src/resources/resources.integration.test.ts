import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeJwt } from 'jose'
import type { User } from '../accounts/types.js'
import { createUser } from '../accounts/users.js'
import { registerClient } from '../clients/clients.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { MESSAGES } from '../messages.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import type { HttpClient } from '../testing/http-client.js'
import { browserFor, introspect, redirectOf, type Json } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { createResource, deleteResource } from './resources.js'

const CLI = fileURLToPath(new URL('../cli/index.js', import.meta.url))
const REDIRECT = 'https://app.example.com/callback'
const CALENDAR = 'https://calendar.example.com/mcp'
const FILES = 'https://files.example.com/mcp'

/** The hidden fields of the consent form in order, repeats kept (`resource` may repeat). */
function consentPairs(html: string): [string, string][] {
  const form = /<form method="post" action="\/oauth\/authorize"[\s\S]*?<\/form>/.exec(html)
  assert.ok(form, 'no consent form in the page')
  const decode = (v: string) => v.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')
  return [...form[0].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [m[1]!, decode(m[2]!)])
}

await forEachDialect('RFC 8707 resource indicators', (dialect) => {
  let server: TestServer
  let user: User
  let clientId: string
  let clientSecret: string
  let browser: HttpClient
  let apiUri: string

  before(async () => {
    server = await startTestServer(dialect)
    apiUri = `${server.ctx.config.issuer}/api/v2`
    const created = await createUser(
      server.ctx.db,
      { email: 'ada@example.com', name: 'Ada', password: 'correct horse battery', teamName: 'Engines' },
      Date.now(),
    )
    user = created.user
    const { client, secret } = await registerClient(
      server.ctx.db,
      server.ctx.keys,
      { name: 'Agent', redirectUris: [REDIRECT], ownerUserId: user.id, teamId: created.team!.id },
      Date.now(),
    )
    clientId = client.id
    clientSecret = secret!
    await createResource(server.ctx.db, server.ctx.config.issuer, { uri: CALENDAR, name: 'Calendar MCP', scopes: ['calendar:read'] }, Date.now())
    await createResource(server.ctx.db, server.ctx.config.issuer, { uri: FILES, name: 'Files MCP', scopes: [] }, Date.now())
    browser = await browserFor(server, user)
  })
  after(() => server.stop())

  function authorizeQuery(resources: string[], extra: Record<string, string> = {}): string {
    const query = new URLSearchParams({ client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', state: 's1', prompt: 'consent', ...extra })
    for (const r of resources) query.append('resource', r)
    return `/oauth/authorize?${query.toString()}`
  }

  async function consentPage(resources: string[], extra: Record<string, string> = {}): Promise<string> {
    const page = await browser.get(authorizeQuery(resources, extra))
    assert.equal(page.status, 200)
    return page.text()
  }

  async function codeFor(resources: string[], extra: Record<string, string> = {}): Promise<string> {
    const pairs = consentPairs(await consentPage(resources, extra))
    const body = new URLSearchParams([...pairs, ['decision', 'approve']])
    const back = redirectOf(
      await browser.request('/oauth/authorize', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() }),
    )
    const code = back.searchParams.get('code')
    assert.ok(code, back.href)
    return code
  }

  async function token(code: string, resources: string[] = []): Promise<{ status: number; body: Json }> {
    const form = new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, client_secret: clientSecret, code, redirect_uri: REDIRECT })
    for (const r of resources) form.append('resource', r)
    return postForm('/oauth/token', form)
  }

  async function refresh(refreshToken: string, resources: string[] = []): Promise<{ status: number; body: Json }> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken })
    for (const r of resources) form.append('resource', r)
    return postForm('/oauth/token', form)
  }

  async function postForm(path: string, form: URLSearchParams): Promise<{ status: number; body: Json }> {
    const response = await fetch(new URL(path, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    })
    return { status: response.status, body: (await response.json()) as Json }
  }

  it('binds the access token to the resource: aud is its URI, and introspection answers it (RFC 8707 §2, RFC 7662 §2.2)', async () => {
    const issued = await token(await codeFor([CALENDAR]))
    assert.equal(issued.status, 200, JSON.stringify(issued.body))
    const claims = decodeJwt(String(issued.body.access_token))
    assert.equal(claims.aud, CALENDAR)
    assert.equal(claims.client_id, clientId)
    const answer = await introspect(server, String(issued.body.access_token), clientId, clientSecret)
    assert.equal(answer.aud, CALENDAR)
  })

  it('keeps tokens requested without resource exactly as before: aud is the client id', async () => {
    const issued = await token(await codeFor([]))
    assert.equal(issued.status, 200)
    assert.equal(decodeJwt(String(issued.body.access_token)).aud, clientId)
    assert.equal((await introspect(server, String(issued.body.access_token), clientId, clientSecret)).aud, clientId)
  })

  it('takes resource several times; the token request may narrow to some, never add one (RFC 8707 §2.2)', async () => {
    const both = await token(await codeFor([CALENDAR, FILES]))
    assert.deepEqual(decodeJwt(String(both.body.access_token)).aud, [CALENDAR, FILES])
    const narrowed = await token(await codeFor([CALENDAR, FILES]), [FILES])
    assert.equal(decodeJwt(String(narrowed.body.access_token)).aud, FILES)
    const added = await token(await codeFor([CALENDAR]), [FILES])
    assert.equal(added.status, 400)
    assert.equal(added.body.error, 'invalid_target')
    const none = await token(await codeFor([]), [CALENDAR])
    assert.equal(none.body.error, 'invalid_target')
  })

  it('answers an unregistered or malformed resource at the authorization endpoint with invalid_target by redirect (RFC 8707 §2)', async () => {
    for (const bad of ['https://unknown.example.com/mcp', 'not a uri', `${CALENDAR}#frag`]) {
      const back = redirectOf(await browser.get(authorizeQuery([bad])))
      assert.equal(back.searchParams.get('error'), 'invalid_target', bad)
      assert.equal(back.searchParams.get('state'), 's1')
    }
  })

  it('answers an unregistered resource at the token endpoint with invalid_target', async () => {
    const issued = await token(await codeFor([CALENDAR]), ['https://unknown.example.com/mcp'])
    assert.equal(issued.status, 400)
    assert.equal(issued.body.error, 'invalid_target')
  })

  it('keeps the audience through rotation; a refresh may narrow it, never add to it', async () => {
    const first = await token(await codeFor([CALENDAR, FILES]))
    const kept = await refresh(String(first.body.refresh_token))
    assert.equal(kept.status, 200)
    assert.deepEqual(decodeJwt(String(kept.body.access_token)).aud, [CALENDAR, FILES])
    const narrowed = await refresh(String(kept.body.refresh_token), [CALENDAR])
    assert.equal(narrowed.status, 200)
    assert.equal(decodeJwt(String(narrowed.body.access_token)).aud, CALENDAR)
    const single = await token(await codeFor([CALENDAR]))
    const widened = await refresh(String(single.body.refresh_token), [FILES])
    assert.equal(widened.status, 400)
    assert.equal(widened.body.error, 'invalid_target')
  })

  it('names the resource on the consent page by its registered name, and accepts the scopes it defines', async () => {
    const html = await consentPage([CALENDAR], { scope: 'calendar:read' })
    // The tests before approved it: it is named among what the user already allowed, not asked for again.
    assert.match(html, /data-testid="consent-resource-approved">Access to <bdi>Calendar MCP<\/bdi>/)
    assert.doesNotMatch(html, /data-testid="consent-resource"/)
    assert.match(html, /calendar:read/)
    const unknownScope = redirectOf(await browser.get(authorizeQuery([FILES], { scope: 'calendar:read' })))
    assert.equal(unknownScope.searchParams.get('error'), 'invalid_scope')
  })

  it('/api/v2 accepts tokens without resource and tokens for its own URI, and refuses tokens for other resources with 401 invalid_token', async () => {
    const me = (accessToken: unknown) => fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${String(accessToken)}` } })
    assert.equal((await me((await token(await codeFor([]))).body.access_token)).status, 200)
    assert.equal((await me((await token(await codeFor([apiUri]))).body.access_token)).status, 200)
    const other = await me((await token(await codeFor([CALENDAR]))).body.access_token)
    assert.equal(other.status, 401)
    assert.match(other.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
  })

  it('issues no new token for a resource once it is deleted', async () => {
    const uri = 'https://gone.example.com/mcp'
    await createResource(server.ctx.db, server.ctx.config.issuer, { uri, name: 'Gone', scopes: [] }, Date.now())
    const first = await token(await codeFor([uri]))
    assert.equal(first.status, 200)
    await deleteResource(server.ctx.db, server.ctx.config.issuer, uri)
    const refreshed = await refresh(String(first.body.refresh_token))
    assert.equal(refreshed.body.error, 'invalid_target')
  })
})

await forEachDialect('gatehouse resources commands', (dialect) => {
  let database: TestDatabase
  let dataDir: string
  let db: Db

  function gatehouse(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_ISSUER: 'https://auth.example.com' }
    for (const name of ['PORT', 'HOST', 'REDIS_URL']) delete env[name]
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env, timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
      })
    })
  }

  before(async () => {
    database = await createTestDatabase(dialect)
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-resources-'))
    db = await openDatabase(database.url)
    await migrateToLatest(db)
  })
  after(async () => {
    await db.close()
    await database.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('resources create --json prints {"uri","name","scopes","scope_descriptions"}; list starts with Gatehouse’s own API; delete removes it', async () => {
    const created = await gatehouse(
      'resources',
      'create',
      '--uri',
      CALENDAR,
      '--name',
      'Calendar MCP',
      '--scope',
      'calendar:read',
      '--scope',
      'calendar:write',
      '--scope-description',
      'calendar:read=See your calendar',
      '--json',
    )
    assert.equal(created.code, 0, created.stderr)
    assert.deepEqual(JSON.parse(created.stdout), {
      uri: CALENDAR,
      name: 'Calendar MCP',
      scopes: ['calendar:read', 'calendar:write'],
      scope_descriptions: { 'calendar:read': 'See your calendar' },
    })
    const listed = await gatehouse('resources', 'list', '--json')
    const all = JSON.parse(listed.stdout) as { uri: string }[]
    assert.deepEqual(
      all.map((r) => r.uri),
      ['https://auth.example.com/api/v2', CALENDAR],
    )
    const unknown = await gatehouse('resources', 'create', '--uri', FILES, '--name', 'Files', '--scope', 'files', '--scope-description', 'photos=See photos')
    assert.equal(unknown.stderr, `gatehouse: ${MESSAGES.resource_scope_description_unknown}\n`)
    const malformed = await gatehouse('resources', 'create', '--uri', FILES, '--name', 'Files', '--scope', 'files', '--scope-description', 'files')
    assert.equal(malformed.code, 2)
    const deleted = await gatehouse('resources', 'delete', '--uri', CALENDAR)
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.equal((JSON.parse((await gatehouse('resources', 'list', '--json')).stdout) as unknown[]).length, 1)
  })

  it('refuses a URI with a fragment or query, a second resource with the same URI, deleting the API or an unknown URI', async () => {
    for (const uri of [`${FILES}#x`, 'ftp://files.example.com/']) {
      const run = await gatehouse('resources', 'create', '--uri', uri, '--name', 'Files')
      assert.equal(run.code, 1, uri)
      assert.equal(run.stderr, `gatehouse: ${MESSAGES.resource_uri_invalid}\n`)
    }
    assert.equal((await gatehouse('resources', 'create', '--uri', FILES, '--name', 'Files')).code, 0)
    assert.equal((await gatehouse('resources', 'create', '--uri', FILES, '--name', 'Files')).stderr, `gatehouse: ${MESSAGES.resource_exists}\n`)
    assert.equal(
      (await gatehouse('resources', 'create', '--uri', 'https://auth.example.com/api/v2', '--name', 'API')).stderr,
      `gatehouse: ${MESSAGES.resource_exists}\n`,
    )
    assert.equal((await gatehouse('resources', 'delete', '--uri', 'https://auth.example.com/api/v2')).stderr, `gatehouse: ${MESSAGES.resource_built_in}\n`)
    assert.equal((await gatehouse('resources', 'delete', '--uri', 'https://nowhere.example.com/')).stderr, `gatehouse: ${MESSAGES.resource_not_found}\n`)
    assert.equal((await gatehouse('resources', 'create', '--uri', CALENDAR)).code, 2)
  })
})
