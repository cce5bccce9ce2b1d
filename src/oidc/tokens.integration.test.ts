import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import type { User } from '../accounts/types.js'
import { createUser } from '../accounts/users.js'
import { registerClient } from '../clients/clients.js'
import { KEY_REFRESH_MS, rotateSigningKey } from '../keys/signing-keys.js'
import { createResource } from '../resources/resources.js'
import { accessTokenHash } from './id-token.js'
import { forEachDialect } from '../testing/dialects.js'
import type { HttpClient } from '../testing/http-client.js'
import { authorize, browserFor, codeExchange, codeFor, postOAuth, refreshExchange } from '../testing/oauth.js'
import { exchangeCode, openIdTokens, userinfoOf, verifyIdToken, type TestClient } from '../testing/openid.js'
import { meStatus } from '../testing/portal.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const ISSUER = 'https://id.example.test'
const REDIRECT = 'https://app.example.com/callback'
const ID_TOKEN_TTL = 900

await forEachDialect('OpenID Connect: discovery, ID tokens and userinfo (OpenID Connect Core 1.0, Discovery 1.0)', (dialect) => {
  let server: TestServer
  let ada: User
  let teamId: number
  let browser: HttpClient
  let client: TestClient
  let offset = 0

  before(async () => {
    server = await startTestServer(dialect, { issuer: ISSUER, idTokenTtlSeconds: ID_TOKEN_TTL }, () => Date.now() + offset)
    const created = await createUser(
      server.ctx.db,
      { email: 'ada@example.com', name: 'Ada Lovelace', password: 'correct horse battery', teamName: 'Engines' },
      Date.now(),
    )
    ada = created.user
    teamId = created.team!.id
    const registered = await registerClient(
      server.ctx.db,
      server.ctx.keys,
      { name: 'Sign-in App', redirectUris: [REDIRECT], ownerUserId: ada.id, teamId },
      Date.now(),
    )
    client = { id: registered.client.id, secret: registered.secret!, redirectUri: REDIRECT }
    browser = await browserFor(server, ada)
  })
  after(() => server.stop())

  it('oidcc-discovery-endpoint-verification: the OpenID configuration has the issuer exactly as configured, and every field it shares with RFC 8414 metadata has the same value', async () => {
    const [oidc, oauth] = await Promise.all(
      ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'].map(async (path) => {
        const response = await fetch(new URL(path, server.url))
        assert.equal(response.status, 200, path)
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
        return (await response.json()) as Record<string, unknown>
      }),
    )
    assert.equal(oidc!.issuer, ISSUER)
    for (const [field, value] of Object.entries(oauth!)) assert.deepEqual(oidc![field], value, field)
    assert.equal(oidc!.userinfo_endpoint, `${ISSUER}/oauth/userinfo`)
    assert.equal(oidc!.end_session_endpoint, `${ISSUER}/oauth/logout`)
    assert.equal(oidc!.jwks_uri, `${ISSUER}/oauth/jwks`)
    for (const scope of ['openid', 'profile', 'email']) assert.ok((oidc!.scopes_supported as string[]).includes(scope), scope)
    assert.deepEqual(oidc!.response_types_supported, ['code'])
    assert.deepEqual(oidc!.subject_types_supported, ['public'])
    assert.deepEqual(oidc!.id_token_signing_alg_values_supported, ['RS256'])
    for (const claim of ['sub', 'iss', 'auth_time', 'nonce', 'at_hash', 'sid', 'amr', 'team_id', 'email', 'email_verified', 'name', 'updated_at']) {
      assert.ok((oidc!.claims_supported as string[]).includes(claim), claim)
    }
    assert.ok(!(oidc!.claims_supported as string[]).includes('azp'), 'no token carries azp, so discovery does not offer it')
    assert.ok((oidc!.token_endpoint_auth_methods_supported as string[]).includes('client_secret_basic'))
    assert.deepEqual(oidc!.code_challenge_methods_supported, ['S256'])
    assert.equal(oidc!.request_parameter_supported, false)
    assert.equal(oidc!.request_uri_parameter_supported, false)
  })

  it('oidcc-server / oidcc-idtoken-rs256: an openid request gets an RS256 ID token with kid, iss, sub, aud, exp (GATEHOUSE_ID_TOKEN_TTL), iat, auth_time, nonce, at_hash, sid, amr and team_id', async () => {
    const tokens = await openIdTokens(server, browser, client, { scope: 'openid', nonce: 'n-0S6_WzA2Mj', state: 'af0ifjsldkj' })
    assert.deepEqual(Object.keys(tokens), ['token_type', 'expires_in', 'access_token', 'refresh_token', 'scope', 'id_token'])
    const header = decodeProtectedHeader(String(tokens.id_token))
    assert.equal(header.alg, 'RS256')
    assert.ok(header.kid)
    const jwks = (await (await fetch(new URL('/oauth/jwks', server.url))).json()) as { keys: { kid: string }[] }
    assert.ok(
      jwks.keys.some((k) => k.kid === header.kid),
      'the kid is published',
    )
    const claims = await verifyIdToken(server, tokens.id_token, client.id)
    assert.equal(claims.iss, ISSUER)
    assert.equal(claims.sub, String(ada.id))
    assert.equal(claims.aud, client.id)
    assert.equal(claims.exp! - claims.iat!, ID_TOKEN_TTL)
    assert.equal(claims.nonce, 'n-0S6_WzA2Mj')
    assert.equal(claims.at_hash, accessTokenHash(String(tokens.access_token), 'RS256'))
    assert.deepEqual(claims.amr, ['pwd'])
    assert.equal(claims.team_id, teamId)
    assert.equal(typeof claims.sid, 'string')
    const session = await server.ctx.db.kysely
      .selectFrom('sessions')
      .select(['sid', 'authenticated_at'])
      .where('user_id', '=', ada.id)
      .executeTakeFirstOrThrow()
    assert.equal(claims.sid, session.sid)
    assert.equal(claims.auth_time, Math.floor(session.authenticated_at / 1000), 'auth_time is when the session logged in')
    assert.equal('email' in claims || 'name' in claims, false, 'no profile or email claims without those scopes')
  })

  it('at_hash is the left half of the SHA-256 of the access token, base64url (OpenID Connect Core §3.1.3.6)', () => {
    // The example of OpenID Connect Core A.3 (access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", at_hash "77QmUPtjPfzWtF2AnpK9RQ").
    assert.equal(accessTokenHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y', 'RS256'), '77QmUPtjPfzWtF2AnpK9RQ')
  })

  it('oidcc-ensure-request-without-nonce-succeeds-for-code-flow: no nonce, no nonce claim', async () => {
    const tokens = await openIdTokens(server, browser, client, { scope: 'openid' })
    assert.equal('nonce' in (await verifyIdToken(server, tokens.id_token, client.id)), false)
  })

  it('oidcc-scope-profile, oidcc-scope-email, oidcc-scope-all: the claims of each scope, the same in the ID token and at userinfo', async () => {
    const expected = {
      profile: { name: 'Ada Lovelace', updated_at: Math.floor(ada.updatedAt.getTime() / 1000) },
      email: { email: 'ada@example.com', email_verified: true },
    }
    for (const [scope, claims] of [
      ['openid profile', expected.profile],
      ['openid email', expected.email],
      ['openid profile email', { ...expected.profile, ...expected.email }],
    ] as const) {
      const tokens = await openIdTokens(server, browser, client, { scope })
      const idToken = await verifyIdToken(server, tokens.id_token, client.id)
      const { response, body } = await userinfoOf(server, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } })
      assert.equal(response.status, 200, JSON.stringify(body))
      assert.deepEqual(body, { sub: String(ada.id), team_id: teamId, ...claims }, scope)
      for (const [name, value] of Object.entries(body)) assert.deepEqual(idToken[name], value, `${scope}: ${name} agrees`)
    }
  })

  it('oidcc-scope-address, oidcc-scope-phone, oidcc-ensure-other-scope-order-succeeds: scopes not understood are ignored in an OpenID request (Core §3.1.2.1), in any order', async () => {
    for (const scope of ['openid address', 'phone openid', 'email openid']) {
      const tokens = await openIdTokens(server, browser, client, { scope })
      await verifyIdToken(server, tokens.id_token, client.id)
    }
    const plain = await authorize(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'read address' })
    assert.equal(plain.searchParams.get('error'), 'invalid_scope', 'outside OpenID requests an unknown scope is still refused')
  })

  it('oidcc-userinfo-get, oidcc-userinfo-post-header, oidcc-userinfo-post-body: the token in the header (GET, POST) or in a form body (POST, RFC 6750 §2.2)', async () => {
    const tokens = await openIdTokens(server, browser, client, { scope: 'openid email' })
    const token = String(tokens.access_token)
    const expected = { sub: String(ada.id), team_id: teamId, email: 'ada@example.com', email_verified: true }
    const get = await userinfoOf(server, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(get.response.status, 200)
    assert.equal(get.response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(get.body, expected)
    const postHeader = await userinfoOf(server, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    assert.deepEqual(postHeader.body, expected)
    const postBody = await userinfoOf(server, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: token }).toString(),
    })
    assert.equal(postBody.response.status, 200, JSON.stringify(postBody.body))
    assert.deepEqual(postBody.body, expected)
  })

  it('userinfo refuses a token in the query string and a token sent two ways (RFC 6750 §2, §2.3)', async () => {
    const tokens = await openIdTokens(server, browser, client, { scope: 'openid' })
    const token = String(tokens.access_token)
    const query = await userinfoOf(server, { query: `?access_token=${token}` })
    assert.equal(query.response.status, 400)
    assert.equal(query.body.error, 'invalid_request')
    const twice = await userinfoOf(server, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: token }).toString(),
    })
    assert.equal(twice.response.status, 400)
  })

  it('userinfo answers a token without openid with 403 insufficient_scope, and a missing, revoked or foreign token with 401 invalid_token and WWW-Authenticate (RFC 6750 §3)', async () => {
    const plain = await openIdTokens(server, browser, client, { scope: 'read' })
    const noOpenid = await userinfoOf(server, { headers: { authorization: `Bearer ${String(plain.access_token)}` } })
    assert.equal(noOpenid.response.status, 403)
    assert.equal(noOpenid.body.error, 'insufficient_scope')
    assert.match(noOpenid.response.headers.get('www-authenticate') ?? '', /^Bearer .*error="insufficient_scope"/)

    const missing = await userinfoOf(server)
    assert.equal(missing.response.status, 401)
    assert.match(missing.response.headers.get('www-authenticate') ?? '', /^Bearer /)

    const tokens = await openIdTokens(server, browser, client, { scope: 'openid' })
    const { response } = await postOAuth(server, '/oauth/revoke', { token: String(tokens.access_token), client_id: client.id, client_secret: client.secret })
    assert.equal(response.status, 200)
    for (const token of [String(tokens.access_token), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.', 'not-a-token-at-all']) {
      const refused = await userinfoOf(server, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(refused.response.status, 401, token)
      assert.equal(refused.body.error, 'invalid_token')
      assert.match(refused.response.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/)
    }
  })

  it('userinfo refuses with 401 invalid_token a token made for another resource, as the API does (RFC 8707 §2, RFC 9068 §4, RFC 6750 §3)', async () => {
    const mcp = 'https://r.example/mcp'
    await createResource(server.ctx.db, ISSUER, { uri: mcp, name: 'MCP server', scopes: [] }, Date.now())
    const foreign = await openIdTokens(server, browser, client, { scope: 'openid email', resource: mcp })
    const refused = await userinfoOf(server, { headers: { authorization: `Bearer ${String(foreign.access_token)}` } })
    assert.equal(refused.response.status, 401, JSON.stringify(refused.body))
    assert.equal(refused.body.error, 'invalid_token')
    assert.equal(refused.body.email, undefined)
    assert.match(refused.response.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/)

    const own = await openIdTokens(server, browser, client, { scope: 'openid email', resource: `${ISSUER}/api/v2` })
    assert.equal((await userinfoOf(server, { headers: { authorization: `Bearer ${String(own.access_token)}` } })).response.status, 200)
  })

  it('an ID token is never accepted as an access token, at the API or at userinfo (401)', async () => {
    const tokens = await openIdTokens(server, browser, client, { scope: 'openid read' })
    const idToken = String(tokens.id_token)
    assert.equal(await meStatus(server, String(tokens.access_token)), 200)
    assert.equal(await meStatus(server, idToken), 401)
    assert.equal((await userinfoOf(server, { headers: { authorization: `Bearer ${idToken}` } })).response.status, 401)
  })

  it('oidcc-codereuse: a code redeemed twice is refused, and everything it produced is revoked, refresh token included (RFC 6749 §4.1.2)', async () => {
    const code = await codeFor(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid' })
    const tokens = await exchangeCode(server, client, code)
    const again = await codeExchange(server, client, code, { redirect_uri: REDIRECT })
    assert.equal(again.response.status, 400)
    assert.equal(again.body.error, 'invalid_grant')
    assert.equal((await userinfoOf(server, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } })).response.status, 401)
    const refresh = await refreshExchange(server, client, String(tokens.refresh_token))
    assert.equal(refresh.body.error, 'invalid_grant')
  })

  it('oidcc-codereuse-30seconds: the same, with the second attempt 30 seconds later', async () => {
    const code = await codeFor(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid' })
    const tokens = await exchangeCode(server, client, code)
    offset += 30_000
    const again = await codeExchange(server, client, code, { redirect_uri: REDIRECT })
    assert.equal(again.body.error, 'invalid_grant')
    assert.equal((await userinfoOf(server, { headers: { authorization: `Bearer ${String(tokens.access_token)}` } })).response.status, 401)
  })

  it('oidcc-refresh-token: a refresh of an OpenID grant returns a new ID token for the same user and login, without the nonce (Core §12.2)', async () => {
    const tokens = await openIdTokens(server, browser, client, { scope: 'openid profile', nonce: 'first-nonce' })
    const first = await verifyIdToken(server, tokens.id_token, client.id)
    offset += 5_000
    const { response, body } = await refreshExchange(server, client, String(tokens.refresh_token))
    assert.equal(response.status, 200, JSON.stringify(body))
    const second = await verifyIdToken(server, body.id_token, client.id)
    assert.equal(second.sub, first.sub)
    assert.equal(second.aud, first.aud)
    assert.equal(second.auth_time, first.auth_time)
    assert.equal(second.sid, first.sid)
    assert.ok(second.iat! > first.iat!)
    assert.equal('nonce' in second, false)
    assert.equal(second.at_hash, accessTokenHash(String(body.access_token), 'RS256'))
    assert.equal(second.name, 'Ada Lovelace')
  })

  it('without openid, the token response has no id_token and is shaped exactly as the seeds show', async () => {
    const code = await codeFor(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' })
    const response = await fetch(new URL('/oauth/token', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        client_id: client.id,
        client_secret: client.secret,
      }).toString(),
    })
    assert.match(await response.text(), /^\{"token_type":"Bearer","expires_in":31536000,"access_token":"[\w.-]+","refresh_token":"[\w-]+"\}$/)
  })

  it('oidcc-server-rotate-keys: after the signing key rotates, a new ID token names the new kid, found at the jwks_uri of discovery, and an ID token signed before still validates', async () => {
    const before = await openIdTokens(server, browser, client, { scope: 'openid', nonce: 'before-rotation' })
    const oldKid = decodeProtectedHeader(String(before.id_token)).kid!
    const newKid = await rotateSigningKey(server.ctx.db, server.ctx.keys.encryption, server.ctx.config.signingAlg, server.ctx.clock())
    assert.notEqual(newKid, oldKid)
    // Long enough for the key ring to re-read the keys, as every process does after a rotation made elsewhere.
    offset += KEY_REFRESH_MS + 1000
    const after = await openIdTokens(server, browser, client, { scope: 'openid', nonce: 'after-rotation' })
    assert.equal(decodeProtectedHeader(String(after.id_token)).kid, newKid)

    const discovery = (await (await fetch(new URL('/.well-known/openid-configuration', server.url))).json()) as { jwks_uri: string }
    assert.equal(new URL(discovery.jwks_uri).origin, ISSUER)
    const jwks = (await (await fetch(new URL(new URL(discovery.jwks_uri).pathname, server.url))).json()) as JSONWebKeySet
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [newKid, oldKid].sort())
    const verifyAt = { issuer: ISSUER, audience: client.id, algorithms: ['RS256'], currentDate: new Date(server.ctx.clock()) }
    const fresh = await jwtVerify(String(after.id_token), createLocalJWKSet(jwks), verifyAt)
    assert.equal(fresh.payload.nonce, 'after-rotation')
    const old = await jwtVerify(String(before.id_token), createLocalJWKSet(jwks), verifyAt)
    assert.equal(old.protectedHeader.kid, oldKid)
    assert.equal(old.payload.nonce, 'before-rotation')
  })
})
