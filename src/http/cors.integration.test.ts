import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { SCOPES } from '../protocol/scopes.js'
import { createResource } from '../resources/resources.js'
import { forEachDialect } from '../testing/dialects.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const ORIGIN = 'https://agent.example.com'

await forEachDialect('CORS on the machine endpoints, and nowhere else', (dialect) => {
  let server: TestServer

  before(async () => {
    server = await startTestServer(dialect, { clientRegistration: 'open' })
    await createResource(server.ctx.db, server.ctx.config.issuer, { uri: 'https://files.example.com/mcp', name: 'Files', scopes: ['files:read'] }, Date.now())
  })
  after(() => server.stop())

  const MACHINE = [
    ['GET', '/.well-known/oauth-authorization-server'],
    ['GET', '/.well-known/oauth-protected-resource/api/v2'],
    ['GET', '/oauth/jwks'],
    ['GET', '/.well-known/jwks.json'],
    ['POST', '/oauth/token'],
    ['POST', '/oauth/revoke'],
    ['POST', '/oauth/register'],
    ['DELETE', '/oauth/register/some-client'],
  ] as const

  it('answers preflights on the metadata, JWKS, token, revocation and registration endpoints: content-type and authorization allowed, no credentials (Fetch standard, CORS protocol)', async () => {
    for (const [method, path] of MACHINE) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'content-type, authorization' },
      })
      assert.equal(response.status, 204, path)
      assert.equal(response.headers.get('access-control-allow-origin'), '*', path)
      const allowed = (response.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim())
      assert.ok(allowed.includes('content-type') && allowed.includes('authorization'), path)
      assert.ok((response.headers.get('access-control-allow-methods') ?? '').includes(method), path)
      assert.equal(response.headers.get('access-control-allow-credentials'), null, path)
    }
  })

  it('puts Access-Control-Allow-Origin on the actual answers, errors included', async () => {
    for (const [method, path] of MACHINE) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { origin: ORIGIN, 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : '{}',
      })
      assert.equal(response.headers.get('access-control-allow-origin'), '*', `${method} ${path} answered ${response.status}`)
      assert.equal(response.headers.get('access-control-allow-credentials'), null)
    }
  })

  it('never sends permissive CORS headers from the authorization endpoint, the login page or the portal', async () => {
    for (const path of ['/oauth/authorize?client_id=x', '/login', '/', '/settings/clients', '/team/apps', '/settings/tokens', '/api/v2/me']) {
      for (const method of ['GET', 'OPTIONS']) {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
          redirect: 'manual',
        })
        assert.equal(response.headers.get('access-control-allow-origin'), null, `${method} ${path}`)
        assert.equal(response.headers.get('access-control-allow-credentials'), null, `${method} ${path}`)
      }
    }
  })

  it('metadata stays truthful: issuer exactly GATEHOUSE_ISSUER, none among the auth methods, the grants, scopes and PKCE methods it supports (RFC 8414 §2)', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    assert.equal(metadata.issuer, server.ctx.config.issuer)
    assert.ok((metadata.token_endpoint_auth_methods_supported as string[]).includes('none'))
    assert.deepEqual(metadata.grant_types_supported, [
      'authorization_code',
      'refresh_token',
      'password',
      'urn:ietf:params:oauth:grant-type:device_code',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ])
    assert.deepEqual(metadata.scopes_supported, [...Object.keys(SCOPES), 'files:read'])
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256'])
    assert.deepEqual(metadata.response_types_supported, ['code'])
  })
})
