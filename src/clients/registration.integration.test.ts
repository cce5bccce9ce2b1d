import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { after, before, describe, it } from 'node:test'
import type { User } from '../accounts/types.js'
import { createUser } from '../accounts/users.js'
import { forEachDialect } from '../testing/dialects.js'
import type { HttpClient } from '../testing/http-client.js'
import {
  authorizePath,
  browserFor,
  codeExchange,
  codeFor,
  consentFields,
  pkcePair,
  postOAuth,
  redirectOf,
  refreshExchange,
  type Json,
} from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { pruneExpired } from '../tokens/prune.js'
import { findClient } from './clients.js'
import { createRegistrationToken } from './registration/initial-tokens.js'
import { registerDynamicClient } from './registration/management.js'

const LOOPBACK = 'http://127.0.0.1:33418/callback'
const KEY_PAIR = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const PUBLIC_JWK = { ...KEY_PAIR.publicKey.export({ format: 'jwk' }), kid: 'agent-1' }
const PRIVATE_JWK = KEY_PAIR.privateKey.export({ format: 'jwk' })

/** What an MCP client built on the official SDK sends. */
const MCP_CLIENT = {
  redirect_uris: [LOOPBACK],
  client_name: 'Agent Desktop',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  scope: 'read',
  client_uri: 'https://agent.example.com',
  logo_uri: 'https://agent.example.com/logo.png',
  contacts: ['support@agent.example.com'],
  software_id: 'agent-desktop',
  software_version: '1.2.3',
}

let addressCount = 0

/** Each call comes from an address of its own, so the per-address limit only counts where a test means it to. */
function freshAddress(): string {
  addressCount += 1
  return `203.0.113.${addressCount % 250}`
}

async function register(server: TestServer, body: unknown, headers: Record<string, string> = {}): Promise<{ response: Response; body: Json }> {
  const response = await fetch(new URL('/oauth/register', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': freshAddress(), ...headers },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json')
  return { response, body: isJson ? (JSON.parse(text) as Json) : {} }
}

function hasNoNull(value: unknown): boolean {
  if (value === null) return false
  if (typeof value === 'object') return Object.values(value as object).every(hasNoNull)
  return true
}

await forEachDialect('RFC 7591 / 7592 dynamic client registration', (dialect) => {
  let server: TestServer
  let user: User
  let browser: HttpClient

  before(async () => {
    server = await startTestServer(dialect, { clientRegistration: 'open', trustProxy: true })
    user = (await createUser(server.ctx.db, { email: 'ada@example.com', name: 'Ada', password: 'correct horse battery', teamName: 'Engines' }, Date.now())).user
    browser = await browserFor(server, user)
  })
  after(() => server.stop())

  it('lists registration_endpoint in the metadata when registration is on (RFC 8414 §2)', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as Json
    assert.equal(metadata.registration_endpoint, `${server.ctx.config.issuer}/oauth/register`)
  })

  it('registers the metadata an MCP client sends: 201, client_id, issued_at, the metadata as stored, no secret for a public client, no null (RFC 7591 §3.2.1)', async () => {
    const { response, body } = await register(server, { ...MCP_CLIENT, unknown_field: 'ignored', jwks_uri: null })
    assert.equal(response.status, 201, JSON.stringify(body))
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.equal(typeof body.client_id, 'string')
    assert.ok(Math.abs(Number(body.client_id_issued_at) - Date.now() / 1000) < 600)
    for (const [key, value] of Object.entries(MCP_CLIENT)) assert.deepEqual(body[key], value, key)
    assert.equal(body.client_secret, undefined)
    assert.equal(body.unknown_field, undefined)
    assert.equal(typeof body.registration_access_token, 'string')
    assert.equal(body.registration_client_uri, `${server.ctx.config.issuer}/oauth/register/${String(body.client_id)}`)
    assert.ok(hasNoNull(body), JSON.stringify(body))
  })

  it('echoes id_token_signed_response_alg, RS256 by default, and signs the ID tokens with it (OpenID Connect Registration §2, §3.2)', async () => {
    const { body: byDefault } = await register(server, MCP_CLIENT)
    assert.equal(byDefault.id_token_signed_response_alg, 'RS256')
    const { response, body } = await register(server, { ...MCP_CLIENT, id_token_signed_response_alg: 'RS256' })
    assert.equal(response.status, 201, JSON.stringify(body))
    assert.equal(body.id_token_signed_response_alg, 'RS256')
    const read = await fetch(String(body.registration_client_uri), { headers: { authorization: `Bearer ${String(body.registration_access_token)}` } })
    assert.equal(((await read.json()) as Json).id_token_signed_response_alg, 'RS256')
  })

  it('gives a confidential client a secret that authenticates it at the token endpoint', async () => {
    const { body } = await register(server, { redirect_uris: ['https://agent.example.com/cb'], token_endpoint_auth_method: 'client_secret_post' })
    assert.equal(typeof body.client_secret, 'string')
    assert.equal(body.client_secret_expires_at, 0)
    assert.deepEqual(body.grant_types, ['authorization_code'])
    assert.equal(body.client_name, undefined)
    const wrong = await postOAuth(server, '/oauth/token', {
      grant_type: 'refresh_token',
      client_id: String(body.client_id),
      client_secret: 'wrong',
      refresh_token: 'x',
    })
    assert.equal(wrong.response.status, 401)
    const right = await postOAuth(server, '/oauth/token', {
      grant_type: 'refresh_token',
      client_id: String(body.client_id),
      client_secret: String(body.client_secret),
      refresh_token: 'x',
    })
    assert.equal(right.body.error, 'unauthorized_client', 'authenticated, and refused a grant type it did not register for')
  })

  it('registers private_key_jwt with jwks (no secret) and client_secret_jwt (a secret): each then authenticates with an assertion (RFC 7523 §2.2)', async () => {
    const { response, body } = await register(server, {
      redirect_uris: ['https://agent.example.com/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [PUBLIC_JWK] },
    })
    assert.equal(response.status, 201, JSON.stringify(body))
    assert.equal(body.client_secret, undefined)
    assert.deepEqual(body.jwks, { keys: [PUBLIC_JWK] })
    const clientId = String(body.client_id)
    const now = Math.floor(Date.now() / 1000)
    const signed = await new SignJWT({ iss: clientId, sub: clientId, aud: server.url, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(KEY_PAIR.privateKey)
    const withKey = await postOAuth(server, '/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: signed,
    })
    assert.equal(withKey.body.error, 'unauthorized_client', 'authenticated, and refused a grant type it did not register for')

    const hmac = await register(server, { redirect_uris: ['https://agent.example.com/cb'], token_endpoint_auth_method: 'client_secret_jwt' })
    assert.equal(hmac.response.status, 201, JSON.stringify(hmac.body))
    const hmacId = String(hmac.body.client_id)
    const mac = await new SignJWT({ iss: hmacId, sub: hmacId, aud: `${server.url}/oauth/token`, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(String(hmac.body.client_secret)))
    const withMac = await postOAuth(server, '/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: mac,
    })
    assert.equal(withMac.body.error, 'unauthorized_client')
  })

  it('holds a client to the grant_types and scope it registered (RFC 7591 §2): no refresh token without refresh_token, no scope beyond its own', async () => {
    const cb = 'https://agent.example.com/cb'
    const { body: created } = await register(server, {
      redirect_uris: [cb],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code'],
      scope: 'read',
    })
    const credentials = { id: String(created.client_id), secret: String(created.client_secret) }
    const request = { client_id: credentials.id, redirect_uri: cb, response_type: 'code' }

    const code = await codeFor(browser, { ...request, scope: 'read' })
    const tokens = await codeExchange(server, credentials, code, { redirect_uri: cb })
    assert.equal(tokens.response.status, 200, JSON.stringify(tokens.body))
    assert.equal(tokens.body.refresh_token, undefined)
    const refreshed = await refreshExchange(server, credentials, 'any refresh token')
    assert.equal(refreshed.response.status, 400)
    assert.equal(refreshed.body.error, 'unauthorized_client')

    const wider = await browser.get(authorizePath({ ...request, scope: 'read write' }))
    assert.equal(redirectOf(wider).searchParams.get('error'), 'invalid_scope')
    const anonymous = await fetch(new URL(authorizePath({ ...request, scope: 'write' }), server.url), { redirect: 'manual' })
    assert.equal(anonymous.status, 400, 'and on a page, not by redirect, before the user signed in')
  })

  describe('refuses bad metadata with 400 and a description (RFC 7591 §3.2.2)', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['a javascript: redirect URI', { redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
      ['a custom-scheme redirect URI', { redirect_uris: ['com.example.app:/callback'] }, 'invalid_redirect_uri'],
      ['a data: redirect URI', { redirect_uris: ['data:text/html,hi'] }, 'invalid_redirect_uri'],
      ['a redirect URI with a fragment', { redirect_uris: ['https://agent.example.com/cb#x'] }, 'invalid_redirect_uri'],
      ['plain http on a non-loopback host', { redirect_uris: ['http://agent.example.com/cb'] }, 'invalid_redirect_uri'],
      ['a control character in a redirect URI', { redirect_uris: ['https://agent.example.com/c\u0000b'] }, 'invalid_redirect_uri'],
      ['a newline in a redirect URI', { redirect_uris: ['https://agent.example.com/cb\n'] }, 'invalid_redirect_uri'],
      ['credentials in a redirect URI', { redirect_uris: ['https://user:pw@agent.example.com/cb'] }, 'invalid_redirect_uri'],
      ['no redirect URI', { redirect_uris: [] }, 'invalid_redirect_uri'],
      ['redirect_uris missing', { redirect_uris: undefined }, 'invalid_redirect_uri'],
      ['an unknown grant type', { grant_types: ['authorization_code', 'client_credentials'] }, 'invalid_client_metadata'],
      ['the implicit grant', { grant_types: ['implicit'] }, 'invalid_client_metadata'],
      ['an unknown response type', { response_types: ['token'] }, 'invalid_client_metadata'],
      ['a client_name over 100 characters', { client_name: 'x'.repeat(101) }, 'invalid_client_metadata'],
      ['a control character in client_name', { client_name: 'Agent\u001b[31m' }, 'invalid_client_metadata'],
      ['a client_name of zero-width characters only, which shows as blank', { client_name: '\u200b\u200b' }, 'invalid_client_metadata'],
      ['an unsupported token_endpoint_auth_method', { token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
      ['a javascript: logo_uri', { logo_uri: 'javascript:alert(1)' }, 'invalid_client_metadata'],
      ['a client_uri that is not a URL', { client_uri: 'agent' }, 'invalid_client_metadata'],
      ['an unknown scope', { scope: 'read admin' }, 'invalid_client_metadata'],
      ['contacts that are not strings', { contacts: [1] }, 'invalid_client_metadata'],
      ['post_logout_redirect_uris that is not an array', { post_logout_redirect_uris: 'https://agent.example.com/bye' }, 'invalid_client_metadata'],
      ['a javascript: post-logout redirect URI', { post_logout_redirect_uris: ['javascript:alert(1)'] }, 'invalid_client_metadata'],
      ['a post-logout redirect URI with a fragment', { post_logout_redirect_uris: ['https://agent.example.com/bye#x'] }, 'invalid_client_metadata'],
      [
        'plain http post-logout redirect URI on a non-loopback host',
        { post_logout_redirect_uris: ['http://agent.example.com/bye'] },
        'invalid_client_metadata',
      ],
      ['a post-logout redirect URI with surrounding spaces', { post_logout_redirect_uris: [' https://agent.example.com/bye'] }, 'invalid_client_metadata'],
      [
        'a post-logout redirect URI listed twice',
        { post_logout_redirect_uris: ['https://agent.example.com/bye', 'https://agent.example.com/bye'] },
        'invalid_client_metadata',
      ],
      ['a back-channel logout URI that is not a string', { backchannel_logout_uri: ['https://agent.example.com/bc'] }, 'invalid_client_metadata'],
      ['a back-channel logout URI with a fragment', { backchannel_logout_uri: 'https://agent.example.com/bc#x' }, 'invalid_client_metadata'],
      ['a plain http back-channel logout URI', { backchannel_logout_uri: 'http://agent.example.com/bc' }, 'invalid_client_metadata'],
      [
        'a back-channel logout URI on loopback, which Gatehouse itself would call',
        { backchannel_logout_uri: 'http://127.0.0.1:8080/bc' },
        'invalid_client_metadata',
      ],
      ['a back-channel logout URI on localhost over https', { backchannel_logout_uri: 'https://localhost/bc' }, 'invalid_client_metadata'],
      ['a back-channel logout URI on localhost with a trailing dot', { backchannel_logout_uri: 'https://localhost./bc' }, 'invalid_client_metadata'],
      ['a back-channel logout URI on a private address', { backchannel_logout_uri: 'https://10.0.0.7/bc' }, 'invalid_client_metadata'],
      ['a back-channel logout URI on a link-local address', { backchannel_logout_uri: 'https://[fe80::1]/bc' }, 'invalid_client_metadata'],
      ['backchannel_logout_session_required that is not a boolean', { backchannel_logout_session_required: 'yes' }, 'invalid_client_metadata'],
      // OpenID Connect Registration §2: only what id_token_signing_alg_values_supported lists (RS256 here).
      ['an id_token_signed_response_alg not supported', { id_token_signed_response_alg: 'ES256' }, 'invalid_client_metadata'],
      ['id_token_signed_response_alg none', { id_token_signed_response_alg: 'none' }, 'invalid_client_metadata'],
      ['private_key_jwt without jwks or jwks_uri', { token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
      [
        'private_key_jwt with both jwks and jwks_uri',
        { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [PUBLIC_JWK] }, jwks_uri: 'https://agent.example.com/jwks.json' },
        'invalid_client_metadata',
      ],
      ['a jwks holding a private key', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [PRIVATE_JWK] } }, 'invalid_client_metadata'],
      ['a plain http jwks_uri', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://agent.example.com/jwks.json' }, 'invalid_client_metadata'],
      ['a jwks_uri on a private address', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://10.0.0.7/jwks.json' }, 'invalid_client_metadata'],
      [
        'jwks for a client that authenticates with its secret',
        { token_endpoint_auth_method: 'client_secret_basic', jwks: { keys: [PUBLIC_JWK] } },
        'invalid_client_metadata',
      ],
    ]
    for (const [what, override, error] of cases) {
      it(what, async () => {
        const { response, body } = await register(server, { ...MCP_CLIENT, ...override })
        assert.equal(response.status, 400, JSON.stringify(body))
        assert.equal(body.error, error)
        assert.equal(typeof body.error_description, 'string')
        assert.ok(String(body.error_description).length > 10)
      })
    }
    it('a body that is not a JSON object', async () => {
      const { response, body } = await register(server, ['x'])
      assert.equal(response.status, 400)
      assert.equal(body.error, 'invalid_client_metadata')
    })
  })

  it('reads, updates and deletes the registration with the registration access token, rotating it each time (RFC 7592 §2)', async () => {
    const { body: created } = await register(server, MCP_CLIENT)
    const uri = String(created.registration_client_uri)
    const call = (method: string, token: unknown, body?: object) =>
      fetch(uri, {
        method,
        headers: { authorization: `Bearer ${String(token)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    const read = await call('GET', created.registration_access_token)
    assert.equal(read.status, 200)
    const readBody = (await read.json()) as Json
    assert.equal(readBody.client_name, 'Agent Desktop')
    assert.notEqual(readBody.registration_access_token, created.registration_access_token)
    const stale = await call('GET', created.registration_access_token)
    assert.equal(stale.status, 401)
    assert.match(stale.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
    const updated = await call('PUT', readBody.registration_access_token, { ...MCP_CLIENT, client_id: created.client_id, client_name: 'Agent Desktop 2' })
    assert.equal(updated.status, 200)
    const updatedBody = (await updated.json()) as Json
    assert.equal(updatedBody.client_name, 'Agent Desktop 2')
    const badUpdate = await call('PUT', updatedBody.registration_access_token, { ...MCP_CLIENT, redirect_uris: ['javascript:x'] })
    assert.equal(badUpdate.status, 400)
    const toSecret = await call('PUT', updatedBody.registration_access_token, { ...MCP_CLIENT, token_endpoint_auth_method: 'client_secret_basic' })
    assert.equal(((await toSecret.json()) as Json).error, 'invalid_client_metadata')
    const deleted = await call('DELETE', updatedBody.registration_access_token)
    assert.equal(deleted.status, 204)
    const gone = await browser.get(authorizePath({ client_id: String(created.client_id), redirect_uri: LOOPBACK, response_type: 'code' }))
    assert.equal(gone.status, 400)
  })

  it('takes post_logout_redirect_uris and backchannel_logout_uri (RP-Initiated Logout §3.1, Back-Channel Logout §2.2): echoed, kept, read back and replaced (RFC 7592), and the end_session_endpoint redirects only to what is registered', async () => {
    const bye = 'http://127.0.0.1:33418/bye'
    const logout = {
      post_logout_redirect_uris: [bye],
      backchannel_logout_uri: 'https://agent.example.com/backchannel',
      backchannel_logout_session_required: true,
    }
    const { response, body: created } = await register(server, { ...MCP_CLIENT, ...logout })
    assert.equal(response.status, 201, JSON.stringify(created))
    for (const [key, value] of Object.entries(logout)) assert.deepEqual(created[key], value, key)
    const clientId = String(created.client_id)
    const stored = await findClient(server.ctx.db, clientId)
    assert.deepEqual(stored?.postLogoutRedirectUris, [bye])
    assert.equal(stored?.backchannelLogoutUri, logout.backchannel_logout_uri)

    const endSession = (uri: string) =>
      fetch(`${server.url}/oauth/logout?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: uri, state: 's' })}`, { redirect: 'manual' })
    // Without an id_token_hint, a self-registered client's URI is offered as a link, not followed (RFC 9700 §4.11.2).
    const offered = await endSession(bye)
    assert.equal(offered.status, 200)
    assert.ok((await offered.text()).includes(`href="${bye}?state=s"`))
    assert.equal((await endSession('http://127.0.0.1:33418/elsewhere')).status, 400)

    const call = (method: string, token: unknown, body?: object) =>
      fetch(String(created.registration_client_uri), {
        method,
        headers: { authorization: `Bearer ${String(token)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    const read = (await (await call('GET', created.registration_access_token)).json()) as Json
    for (const [key, value] of Object.entries(logout)) assert.deepEqual(read[key], value, key)

    const moved = 'http://127.0.0.1:33418/goodbye'
    const updated = (await (await call('PUT', read.registration_access_token, { ...MCP_CLIENT, post_logout_redirect_uris: [moved] })).json()) as Json
    assert.deepEqual(updated.post_logout_redirect_uris, [moved])
    assert.equal(updated.backchannel_logout_uri, undefined, 'left out of the update, so removed (RFC 7592 §2.2)')
    const after = await findClient(server.ctx.db, clientId)
    assert.deepEqual(after?.postLogoutRedirectUris, [moved])
    assert.equal(after?.backchannelLogoutUri, null)
    assert.equal((await endSession(bye)).status, 400, 'the old post-logout URI is refused')
    assert.equal((await endSession(moved)).status, 200)

    const refused = await call('PUT', updated.registration_access_token, { ...MCP_CLIENT, backchannel_logout_uri: 'http://127.0.0.1:1/bc' })
    assert.equal(((await refused.json()) as Json).error, 'invalid_client_metadata')
    assert.equal((await findClient(server.ctx.db, clientId))?.backchannelLogoutUri, null)
  })

  it('is no open redirector for a client that registered itself (RFC 9700 §4.11.2): before sign-in its errors show a page, and logout without id_token_hint offers a link', async () => {
    const phish = 'https://phish.example/login'
    const bye = 'https://phish.example/bye'
    const { body: created } = await register(server, { ...MCP_CLIENT, redirect_uris: [phish], post_logout_redirect_uris: [bye] })
    const clientId = String(created.client_id)
    const anonymous = (path: string) => fetch(new URL(path, server.url), { redirect: 'manual' })
    const { challenge } = pkcePair()
    const request = { client_id: clientId, redirect_uri: phish, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256' }
    for (const params of [{ scope: 'bogus' }, { prompt: 'none', scope: 'openid' }]) {
      const answered = await anonymous(authorizePath({ ...request, ...params }))
      assert.equal(answered.status, 400, JSON.stringify(params))
      assert.equal(answered.headers.get('location'), null, JSON.stringify(params))
    }
    const signedIn = await browser.get(authorizePath({ ...request, scope: 'bogus' }))
    assert.equal(signedIn.status, 302, 'once the user has signed in, the error goes back to the client (RFC 6749 §4.1.2.1)')
    assert.equal(redirectOf(signedIn).searchParams.get('error'), 'invalid_scope')

    const logout = await anonymous(`/oauth/logout?${new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: bye, state: 'x' })}`)
    assert.equal(logout.status, 200)
    assert.equal(logout.headers.get('location'), null)
    assert.ok((await logout.text()).includes(`href="${bye}?state=x"`))
  })

  it('advertises in discovery the logout a registered client can use: end_session_endpoint and back-channel logout with sid', async () => {
    const configuration = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Json
    assert.equal(configuration.end_session_endpoint, `${server.ctx.config.issuer}/oauth/logout`)
    assert.equal(configuration.backchannel_logout_supported, true)
    assert.equal(configuration.backchannel_logout_session_supported, true)
    assert.equal(configuration.registration_endpoint, `${server.ctx.config.issuer}/oauth/register`)
  })

  it('refuses management without the right registration access token with 401 invalid_token (RFC 7592 §2)', async () => {
    const { body: created } = await register(server, MCP_CLIENT)
    const { body: other } = await register(server, MCP_CLIENT)
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${String(other.registration_access_token)}`]) {
      const response = await fetch(String(created.registration_client_uri), { method: 'DELETE', headers: authorization ? { authorization } : {} })
      assert.equal(response.status, 401)
      assert.equal(((await response.json()) as Json).error, 'invalid_token')
    }
  })

  it('allows a client’s retries, then limits registrations per address with 429 and Retry-After', async () => {
    const address = '198.51.100.7'
    for (let i = 0; i < 10; i++)
      assert.equal((await register(server, MCP_CLIENT, { 'x-forwarded-for': address })).response.status, 201, `registration ${i + 1}`)
    let limited: Response | undefined
    for (let i = 0; i < 30 && !limited; i++) {
      const { response } = await register(server, MCP_CLIENT, { 'x-forwarded-for': address })
      if (response.status === 429) limited = response
    }
    assert.ok(limited, 'never limited')
    assert.ok(Number(limited.headers.get('retry-after')) >= 1)
    assert.equal((await register(server, MCP_CLIENT)).response.status, 201)
  })

  it('shows a self-registered app’s consent page every time: not verified, the redirect host, runs on your own computer', async () => {
    const { body: client } = await register(server, MCP_CLIENT)
    const pkce = pkcePair()
    const params = {
      client_id: String(client.client_id),
      redirect_uri: LOOPBACK,
      response_type: 'code',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      state: 'st',
    }
    for (let round = 0; round < 2; round++) {
      const page = await browser.get(authorizePath(params))
      assert.equal(page.status, 200, 'the consent page shows again after an approval')
      const html = await page.text()
      assert.match(html, /data-testid="unverified-client"/)
      assert.match(html, /registered itself and is not verified/)
      assert.match(html, /data-testid="redirect-host">127\.0\.0\.1:33418</)
      assert.match(html, /data-testid="runs-locally">This app runs on your own computer/)
      const back = redirectOf(await browser.postForm('/oauth/authorize', { ...consentFields(html), decision: 'approve' }))
      assert.ok(back.searchParams.get('code'))
    }
    const { body: remote } = await register(server, { ...MCP_CLIENT, redirect_uris: ['https://agent.example.com/cb'] })
    const html = await (
      await browser.get(authorizePath({ ...params, client_id: String(remote.client_id), redirect_uri: 'https://agent.example.com/cb' }))
    ).text()
    assert.match(html, /data-testid="redirect-host">agent\.example\.com</)
    assert.doesNotMatch(html, /runs-locally/)
  })

  it('lists an authorised self-registered app on Team apps, marked self-registered, and revokes it there', async () => {
    const { body: client } = await register(server, { ...MCP_CLIENT, client_name: 'Revocable Agent' })
    const pkce = pkcePair()
    const params = {
      client_id: String(client.client_id),
      redirect_uri: LOOPBACK,
      response_type: 'code',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    }
    const html = await (await browser.get(authorizePath(params))).text()
    const code = redirectOf(await browser.postForm('/oauth/authorize', { ...consentFields(html), decision: 'approve' })).searchParams.get('code')!
    const tokens = await postOAuth(server, '/oauth/token', {
      grant_type: 'authorization_code',
      client_id: String(client.client_id),
      code,
      redirect_uri: LOOPBACK,
      code_verifier: pkce.verifier,
    })
    assert.equal(tokens.response.status, 200)
    const apps = await (await browser.get('/team/apps')).text()
    assert.match(apps, /Revocable Agent<\/bdi><\/strong> <span class="tag[^"]*" data-testid="self-registered">self-registered<\/span>/)
    const confirm = await (await browser.get(`/team/apps/${String(client.client_id)}/revoke`)).text()
    const csrf = /name="_csrf" value="([^"]+)"/.exec(confirm)![1]!
    assert.equal((await browser.postForm(`/team/apps/${String(client.client_id)}/revoke`, { _csrf: csrf })).status, 303)
    const me = await fetch(`${server.url}/api/v2/me`, { headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } })
    assert.equal(me.status, 401)
  })

  it('the janitor deletes self-registered clients never authorised within 24 h, and those unused for the TTL, and keeps the rest', async () => {
    const deps = { db: server.ctx.db, keys: server.ctx.keys, issuer: server.ctx.config.issuer, idTokenAlgorithms: server.ctx.keyRing.idTokenAlgorithms() }
    const hour = 3600 * 1000
    const now = Date.now()
    const abandoned = await registerDynamicClient(deps, MCP_CLIENT, now - 25 * hour)
    const fresh = await registerDynamicClient(deps, MCP_CLIENT, now - 23 * hour)
    const authorisedLongAgo = await registerDynamicClient(deps, MCP_CLIENT, now - 91 * 24 * hour)
    const authorisedRecently = await registerDynamicClient(deps, MCP_CLIENT, now - 91 * 24 * hour)
    const teamId = (await server.ctx.db.kysely.selectFrom('memberships').select('team_id').where('user_id', '=', user.id).executeTakeFirstOrThrow()).team_id
    for (const c of [authorisedLongAgo, authorisedRecently]) {
      await server.ctx.db.kysely
        .insertInto('consents')
        .values({ user_id: user.id, client_id: c.client_id, team_id: teamId, scopes: '', created_at: now - 90 * 24 * hour, updated_at: now })
        .execute()
      await server.ctx.db.kysely
        .insertInto('grants')
        .values({
          id: `g-${c.client_id}`,
          client_id: c.client_id,
          user_id: user.id,
          team_id: teamId,
          scopes: '',
          created_at: now - 90 * 24 * hour,
          revoked_at: null,
        })
        .execute()
    }
    await server.ctx.db.kysely
      .insertInto('access_tokens')
      .values({
        jti: `t-${authorisedRecently.client_id}`,
        grant_id: `g-${authorisedRecently.client_id}`,
        client_id: authorisedRecently.client_id,
        user_id: user.id,
        team_id: teamId,
        scopes: '',
        created_at: now - 24 * hour,
        expires_at: now + hour,
        revoked_at: null,
      })
      .execute()
    const counts = await pruneExpired(server.ctx)
    assert.ok(counts.registered_clients >= 2)
    const left = new Set((await server.ctx.db.kysely.selectFrom('clients').select('id').execute()).map((r) => r.id))
    assert.equal(left.has(abandoned.client_id), false)
    assert.equal(left.has(authorisedLongAgo.client_id), false)
    assert.equal(left.has(fresh.client_id), true)
    assert.equal(left.has(authorisedRecently.client_id), true)
  })
})

await forEachDialect('client registration with GATEHOUSE_CLIENT_REGISTRATION=token and =off', (dialect) => {
  let server: TestServer
  let off: TestServer

  before(async () => {
    server = await startTestServer(dialect, { clientRegistration: 'token' })
    off = await startTestServer(dialect)
  })
  after(async () => {
    await server.stop()
    await off.stop()
  })

  it('needs a live initial access token: none, a wrong one and an expired one get 401 invalid_token (RFC 7591 §3)', async () => {
    for (const headers of [{}, { authorization: 'Bearer gatehouse_reg_wrong' }] as Record<string, string>[]) {
      const { response, body } = await register(server, MCP_CLIENT, headers)
      assert.equal(response.status, 401)
      assert.equal(body.error, 'invalid_token')
    }
    const expired = await createRegistrationToken(server.ctx.db, 60, Date.now() - 61_000)
    assert.equal((await register(server, MCP_CLIENT, { authorization: `Bearer ${expired.token}` })).response.status, 401)
    const live = await createRegistrationToken(server.ctx.db, 3600, Date.now())
    assert.equal((await register(server, MCP_CLIENT, { authorization: `Bearer ${live.token}` })).response.status, 201)
  })

  it('is off by default: no registration_endpoint in the metadata, and no endpoint', async () => {
    const metadata = (await (await fetch(`${off.url}/.well-known/oauth-authorization-server`)).json()) as Json
    assert.equal(metadata.registration_endpoint, undefined)
    assert.equal((await register(off, MCP_CLIENT)).response.status, 404)
  })
})
