import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachDialect } from '../testing/dialects.js'
import { PASSWORD, seedClient, seedUser } from '../testing/fixtures.js'
import { formField } from '../testing/html.js'
import { HttpClient, logIn } from '../testing/http-client.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const REDIRECT = 'https://example.com/callback'

await forEachDialect('seed 000/001 OAuth flow', (dialect) => {
  let server: TestServer
  let clientId: string
  let clientSecret: string

  before(async () => {
    server = await startTestServer(dialect)
    const bob = await seedUser(server.ctx.db, 'bob@example.com', { name: 'Bob Gale', team: 'Acme' })
    const registered = await seedClient(server.ctx, bob, { name: 'Example App', redirectUris: [REDIRECT] })
    clientId = registered.id
    clientSecret = registered.secret
  })
  after(() => server.stop())

  it('authorize → log in → approve → exchange the code → refresh (seed 000 curl requests)', async () => {
    const browser = new HttpClient(server.url)
    const authorizeUrl = `/oauth/authorize?client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=xyz%20ABC&response_type=code`
    const first = await browser.get(authorizeUrl)
    assert.equal(first.status, 303)
    const login = await logIn(browser, 'bob@example.com', PASSWORD, authorizeUrl)
    assert.equal(login.headers.get('location'), authorizeUrl)
    const consent = await browser.get(authorizeUrl)
    assert.equal(consent.status, 200)
    const html = await consent.text()
    assert.match(html, /Example App/)
    assert.match(html, /Acme/)
    const form: Record<string, string> = { decision: 'approve' }
    for (const name of ['_csrf', 'team_id', 'client_id', 'redirect_uri', 'response_type', 'state']) form[name] = formField(html, name)
    const approved = await browser.postForm('/oauth/authorize', form)
    assert.equal(approved.status, 302)
    const location = new URL(approved.headers.get('location')!)
    assert.equal(location.origin + location.pathname, REDIRECT)
    assert.equal(location.searchParams.get('state'), 'xyz ABC')
    assert.equal(location.searchParams.get('iss'), server.ctx.config.issuer)
    const code = location.searchParams.get('code')!
    assert.ok(code.length >= 22)

    const api = new HttpClient(server.url)
    const exchanged = await api.request('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=authorization_code&client_id=${clientId}&client_secret=${clientSecret}&code=${code}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    })
    assert.equal(exchanged.status, 200)
    assert.equal(exchanged.headers.get('cache-control'), 'no-store')
    const raw = await exchanged.text()
    // Byte for byte the seeds' JSON: these keys in this order, nothing else (no id_token without openid).
    assert.match(raw, /^\{"token_type":"Bearer","expires_in":31536000,"access_token":"[\w.-]+","refresh_token":"[\w-]+"\}$/)
    const tokens = JSON.parse(raw) as Record<string, unknown>
    assert.deepEqual(Object.keys(tokens), ['token_type', 'expires_in', 'access_token', 'refresh_token'])
    assert.equal(tokens.token_type, 'Bearer')
    assert.equal(tokens.expires_in, 31536000)

    const introspected = await api.postForm('/oauth/introspect', { token: String(tokens.access_token), client_id: clientId, client_secret: clientSecret })
    const active = (await introspected.json()) as Record<string, unknown>
    assert.equal(active.active, true)

    const refreshed = await api.postForm('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: clientId,
      client_secret: clientSecret,
      refresh_token: String(tokens.refresh_token),
      redirect_uri: REDIRECT,
    })
    assert.equal(refreshed.status, 200)
    const refreshedRaw = await refreshed.text()
    assert.match(refreshedRaw, /^\{"token_type":"Bearer","expires_in":31536000,"access_token":"[\w.-]+","refresh_token":"[\w-]+"\}$/)
    const second = JSON.parse(refreshedRaw) as Record<string, unknown>
    assert.notEqual(second.access_token, tokens.access_token)

    const old = await api.postForm('/oauth/introspect', { token: String(tokens.access_token), client_id: clientId, client_secret: clientSecret })
    assert.deepEqual(await old.json(), { active: false })
  })
})
