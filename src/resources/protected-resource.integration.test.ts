import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachDialect } from '../testing/dialects.js'
import { seedClient, seedUser } from '../testing/fixtures.js'
import { browserFor, codeExchange, codeFor } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const REDIRECT = 'https://app.example.com/callback'

await forEachDialect("RFC 9728 metadata of Gatehouse's API", (dialect) => {
  let server: TestServer
  let writeOnly: string
  let metadataUrl: string

  before(async () => {
    server = await startTestServer(dialect)
    metadataUrl = `${server.url}/.well-known/oauth-protected-resource/api/v2`
    const ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
    const app = await seedClient(server.ctx, ada, { name: 'App', redirectUris: [REDIRECT] })
    const code = await codeFor(await browserFor(server, ada.user), { client_id: app.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'write' })
    const { body } = await codeExchange(server, app, code, { redirect_uri: REDIRECT })
    writeOnly = String(body.access_token)
  })
  after(() => server.stop())

  it('serves the document at the well-known URI built from the resource path, naming Gatehouse as its server (RFC 9728 §3.1, §3.3)', async () => {
    const response = await fetch(metadataUrl)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    const doc = (await response.json()) as Record<string, unknown>
    assert.equal(doc.resource, `${server.url}/api/v2`)
    assert.deepEqual(doc.authorization_servers, [server.ctx.config.issuer])
    assert.deepEqual(doc.scopes_supported, ['read', 'write'])
    assert.deepEqual(doc.bearer_methods_supported, ['header'])
  })

  it('names the metadata in every 401 challenge, with realm and error as before (RFC 9728 §5.1)', async () => {
    for (const authorization of [undefined, 'Bearer not-a-token', 'Basic abc']) {
      const response = await fetch(`${server.url}/api/v2/me`, { headers: authorization ? { authorization } : {} })
      assert.equal(response.status, 401)
      const challenge = response.headers.get('www-authenticate') ?? ''
      assert.match(challenge, /^Bearer realm="gatehouse", /)
      assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge)
      if (authorization) assert.match(challenge, /error="invalid_token"/)
    }
  })

  it('names the missing scope and the metadata in a 403 insufficient_scope challenge (RFC 6750 §3.1)', async () => {
    const response = await fetch(`${server.url}/api/v2/me`, { headers: { authorization: `Bearer ${writeOnly}` } })
    assert.equal(response.status, 403)
    const challenge = response.headers.get('www-authenticate') ?? ''
    assert.match(challenge, /error="insufficient_scope"/)
    assert.match(challenge, /scope="read"/)
    assert.ok(challenge.includes(`resource_metadata="${metadataUrl}"`), challenge)
  })
})
