import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import type { Team, User } from '../accounts/types.js'
import { createUser } from '../accounts/users.js'
import { registerClient } from '../clients/clients.js'
import type { Client } from '../clients/types.js'
import { hashSecret } from '../crypto/random.js'
import { forEachDialect } from '../testing/dialects.js'
import { HttpClient, logIn } from '../testing/http-client.js'
import { basicAuth, browserFor, codeExchange, codeFor, introspect, pkcePair, postOAuth, type Json } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const PASSWORD = 'correct horse battery'
const REDIRECT = 'https://example.com/callback'
const LOOPBACK = 'http://127.0.0.1/callback'
const MINUTE = 60_000

interface Registered {
  client: Client
  id: string
  secret: string
}

function assertOAuthError(response: Response, body: Json, status: number, error: string, what = error): void {
  assert.equal(response.status, status, `${what}: ${JSON.stringify(body)}`)
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], what)
  assert.equal(body.error, error, what)
  assert.equal(typeof body.error_description, 'string', what)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, what)
  assert.equal(response.headers.get('cache-control'), 'no-store', what)
  assert.equal(response.headers.get('pragma'), 'no-cache', what)
}

await forEachDialect('POST /oauth/token', (dialect) => {
  let server: TestServer
  let offset = 0
  let ada: User
  let team: Team
  let browser: HttpClient
  let app: Registered
  let other: Registered
  let multi: Registered
  let native: Registered
  let firstParty: Registered
  let publicFirstParty: Registered

  /** Runs `work` with the server's clock moved forward, then puts it back. */
  async function later<T>(ms: number, work: () => Promise<T>): Promise<T> {
    offset += ms
    try {
      return await work()
    } finally {
      offset -= ms
    }
  }

  async function register(name: string, redirectUris: string[], options: { isConfidential?: boolean; isFirstParty?: boolean } = {}): Promise<Registered> {
    const { client, secret } = await registerClient(
      server.ctx.db,
      server.ctx.keys,
      { name, redirectUris, ownerUserId: ada.id, teamId: team.id, ...options },
      Date.now(),
    )
    return { client, id: client.id, secret: secret ?? '' }
  }

  function code(client: Registered = app, extra: Record<string, string> = {}): Promise<string> {
    return codeFor(browser, { client_id: client.id, redirect_uri: client.client.redirectUris[0], response_type: 'code', ...extra })
  }

  function token(body: Record<string, string> | { json: unknown }, headers: Record<string, string> = {}) {
    return postOAuth(server, '/oauth/token', body, headers)
  }

  async function exchange(codeValue: string, client: Registered = app, extra: Record<string, string> = {}): Promise<{ response: Response; body: Json }> {
    return codeExchange(server, client, codeValue, { redirect_uri: client.client.redirectUris[0]!, ...extra })
  }

  async function tokens(client: Registered = app, extra: Record<string, string> = {}): Promise<{ access: string; refresh: string; body: Json }> {
    const { response, body } = await exchange(await code(client, extra), client)
    assert.equal(response.status, 200, JSON.stringify(body))
    return { access: String(body.access_token), refresh: String(body.refresh_token), body }
  }

  function refresh(refreshToken: string, client: Registered = app, extra: Record<string, string> = {}) {
    return token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.id, client_secret: client.secret, ...extra })
  }

  async function isActive(accessOrRefresh: string, client: Registered = app): Promise<boolean> {
    const answer = await introspect(server, accessOrRefresh, client.id, client.secret)
    return answer.active === true
  }

  before(async () => {
    server = await startTestServer(dialect, {}, () => Date.now() + offset)
    const [created] = await Promise.all([
      createUser(server.ctx.db, { email: 'ada@example.com', name: 'Ada', password: PASSWORD, teamName: 'Engines' }, Date.now()),
      createUser(server.ctx.db, { email: 'pat@example.com', name: 'Pat', password: PASSWORD }, Date.now()),
    ])
    ada = created.user
    team = created.team!
    app = await register('Example App', [REDIRECT])
    other = await register('Other App', ['https://other.example/callback'])
    multi = await register('Two Callbacks', ['https://a.example.com/cb', 'https://b.example.com/cb'])
    native = await register('Native Tool', [LOOPBACK], { isConfidential: false })
    firstParty = await register('Our Mobile App', ['https://mobile.example/cb'], { isFirstParty: true })
    publicFirstParty = await register('Our CLI', [LOOPBACK], { isConfidential: false, isFirstParty: true })
    browser = await browserFor(server, ada)
  })
  after(() => server.stop())

  describe('the seeds’ requests', () => {
    it('seed 000: exchanges a code with the curl request’s form body for {"token_type":"Bearer","expires_in":31536000,…} (RFC 6749 §4.1.3, §5.1)', async () => {
      const codeValue = await code()
      const response = await fetch(new URL('/oauth/token', server.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `grant_type=authorization_code&client_id=${app.id}&client_secret=${app.secret}&code=${codeValue}&redirect_uri=https%3A%2F%2Fexample.com%2Fcallback`,
      })
      assert.equal(response.status, 200)
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.equal(response.headers.get('pragma'), 'no-cache')
      const body = (await response.json()) as Json
      assert.deepEqual(Object.keys(body), ['token_type', 'expires_in', 'access_token', 'refresh_token'])
      assert.equal(body.token_type, 'Bearer')
      assert.equal(body.expires_in, 31536000)
      const claims = decodeJwt(String(body.access_token))
      assert.equal(claims.exp! - claims.iat!, 31536000)
      assert.match(String(body.refresh_token), /^[A-Za-z0-9_-]{43,}$/)
    })

    it('seed 000: refreshes with the curl request’s form body, redirect_uri included, for the same response shape (RFC 6749 §6)', async () => {
      const { refresh: refreshToken } = await tokens()
      const response = await fetch(new URL('/oauth/token', server.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `grant_type=refresh_token&client_id=${app.id}&client_secret=${app.secret}&refresh_token=${refreshToken}&redirect_uri=https%3A%2F%2Fexample.com%2Fcallback`,
      })
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      const body = (await response.json()) as Json
      assert.deepEqual(Object.keys(body), ['token_type', 'expires_in', 'access_token', 'refresh_token'])
      assert.equal(body.token_type, 'Bearer')
      assert.equal(body.expires_in, 31536000)
    })

    it('seed 001: the refresh example that sends code= instead of refresh_token gets a clear invalid_request', async () => {
      const { body: first } = await tokens()
      assert.ok(first.refresh_token)
      const { response, body } = await token({
        grant_type: 'refresh_token',
        client_id: app.id,
        client_secret: app.secret,
        code: 'def5020…',
        redirect_uri: REDIRECT,
      })
      assertOAuthError(response, body, 400, 'invalid_request')
      assert.match(String(body.error_description), /refresh_token/)
    })

    it('seed 004: exchanges a code sent as a JSON body with Content-Type: application/json', async () => {
      const { response, body } = await token({
        json: { client_id: app.id, client_secret: app.secret, code: await code(), grant_type: 'authorization_code', redirect_uri: REDIRECT },
      })
      assert.equal(response.status, 200, JSON.stringify(body))
      assert.equal(body.token_type, 'Bearer')
      assert.ok(body.access_token && body.refresh_token)
    })

    it('seed 004: a first-party client exchanges the user’s e-mail and password, as JSON or form, for tokens of the user’s team (RFC 6749 §4.3)', async () => {
      const asJson = await token({
        json: { grant_type: 'password', client_id: firstParty.id, client_secret: firstParty.secret, username: 'ada@example.com', password: PASSWORD },
      })
      assert.equal(asJson.response.status, 200, JSON.stringify(asJson.body))
      assert.deepEqual(Object.keys(asJson.body), ['token_type', 'expires_in', 'access_token', 'refresh_token'])
      const claims = decodeJwt(String(asJson.body.access_token))
      assert.equal(claims.sub, String(ada.id))
      assert.equal(claims.team_id, team.id)
      assert.equal(claims.aud, firstParty.id)

      const asForm = await token(
        { grant_type: 'password', username: 'ADA@example.com', password: PASSWORD, scope: 'read' },
        { authorization: basicAuth(firstParty.id, firstParty.secret) },
      )
      assert.equal(asForm.response.status, 200, JSON.stringify(asForm.body))
      assert.equal(asForm.body.scope, 'read')
    })
  })

  describe('client authentication (RFC 6749 §2.3)', () => {
    it('accepts client_secret_basic with form-urlencoded credentials (RFC 6749 §2.3.1)', async () => {
      const everyCharEncoded = [...app.secret].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('')
      const header = `Basic ${Buffer.from(`${app.id}:${everyCharEncoded}`).toString('base64')}`
      const { response, body } = await token({ grant_type: 'authorization_code', code: await code(), redirect_uri: REDIRECT }, { authorization: header })
      assert.equal(response.status, 200, JSON.stringify(body))

      const plain = await token(
        { grant_type: 'authorization_code', code: await code(), redirect_uri: REDIRECT, client_id: app.id },
        { authorization: basicAuth(app.id, app.secret) },
      )
      assert.equal(plain.response.status, 200, 'Basic, with the same client_id in the body as well')
    })

    it('refuses HTTP Basic and client_secret in one request with invalid_request (RFC 6749 §2.3)', async () => {
      const { response, body } = await token(
        { grant_type: 'authorization_code', code: await code(), redirect_uri: REDIRECT, client_id: app.id, client_secret: app.secret },
        { authorization: basicAuth(app.id, app.secret) },
      )
      assertOAuthError(response, body, 400, 'invalid_request')
      const mismatch = await token(
        { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT, client_id: other.id },
        { authorization: basicAuth(app.id, app.secret) },
      )
      assertOAuthError(mismatch.response, mismatch.body, 400, 'invalid_request', 'client_id in the body differs from the Basic one')
    })

    it('refuses a failed HTTP Basic authentication with 401 invalid_client and WWW-Authenticate: Basic (RFC 6749 §5.2)', async () => {
      const headers: Record<string, string> = {
        'wrong secret': basicAuth(app.id, 'wrong'),
        'unknown client': basicAuth('00000000-0000-4000-8000-000000000000', app.secret),
        'public client': basicAuth(native.id, ''),
        'not base64 credentials': 'Basic !!!',
        'no colon': `Basic ${Buffer.from(app.id).toString('base64')}`,
      }
      for (const [what, authorization] of Object.entries(headers)) {
        const { response, body } = await token({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT }, { authorization })
        assertOAuthError(response, body, 401, 'invalid_client', what)
        assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /, what)
      }
    })

    it('refuses failed client_secret_post authentication with 401 invalid_client', async () => {
      const cases: Record<string, Record<string, string>> = {
        'wrong secret': { client_id: app.id, client_secret: 'wrong' },
        'empty secret': { client_id: app.id, client_secret: '' },
        'a confidential client without its secret': { client_id: app.id },
        'unknown client': { client_id: 'nobody', client_secret: app.secret },
        'no client at all': {},
        'a public client sending a secret': { client_id: native.id, client_secret: 'anything' },
        "another client's secret": { client_id: app.id, client_secret: other.secret },
      }
      for (const [what, credentials] of Object.entries(cases)) {
        const { response, body } = await token({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT, ...credentials })
        assertOAuthError(response, body, 401, 'invalid_client', what)
      }
    })
  })

  describe('errors (RFC 6749 §5.2)', () => {
    it('answers an unknown or missing grant_type with unsupported_grant_type / invalid_request, never a server error', async () => {
      for (const grantType of ['urn:ietf:params:oauth:grant-type:saml2-bearer', 'implicit', '__proto__', 'constructor', 'toString']) {
        const { response, body } = await token({ grant_type: grantType, client_id: app.id, client_secret: app.secret })
        assertOAuthError(response, body, 400, 'unsupported_grant_type', grantType)
      }
      const missing = await token({ client_id: app.id, client_secret: app.secret })
      assertOAuthError(missing.response, missing.body, 400, 'invalid_request', 'no grant_type')
    })

    it('answers unreadable bodies and repeated parameters with invalid_request, no-store and Pragma: no-cache', async () => {
      const raw = async (contentType: string, body: string) => {
        const response = await fetch(new URL('/oauth/token', server.url), { method: 'POST', headers: { 'content-type': contentType }, body })
        return { response, body: (await response.json()) as Json }
      }
      for (const [what, result] of [
        ['malformed JSON', await raw('application/json', '{"grant_type":')],
        ['a JSON array', await raw('application/json', '["grant_type"]')],
        ['a JSON object as a parameter', await raw('application/json', JSON.stringify({ grant_type: { x: 1 }, client_id: app.id, client_secret: app.secret }))],
        ['text/plain', await raw('text/plain', 'grant_type=authorization_code')],
        [
          'repeated parameter (RFC 6749 §3.2)',
          await raw('application/x-www-form-urlencoded', `grant_type=authorization_code&grant_type=password&client_id=${app.id}&client_secret=${app.secret}`),
        ],
        ['missing code', await raw('application/x-www-form-urlencoded', `grant_type=authorization_code&client_id=${app.id}&client_secret=${app.secret}`)],
      ] as const) {
        assertOAuthError(result.response, result.body, 400, 'invalid_request', what)
      }
    })

    it('answers an invalid code with invalid_grant, no-store and Pragma: no-cache', async () => {
      const { response, body } = await exchange('not-a-code')
      assertOAuthError(response, body, 400, 'invalid_grant')
    })
  })

  describe('authorization_code (RFC 6749 §4.1.3)', () => {
    it('keeps the code, refresh token and client secret only as hashes or ciphertext', async () => {
      const codeValue = await code()
      const { body } = await exchange(codeValue)
      const db = server.ctx.db.kysely
      const rows = JSON.stringify([
        await db.selectFrom('authorization_codes').selectAll().execute(),
        await db.selectFrom('refresh_tokens').selectAll().execute(),
        await db.selectFrom('clients').selectAll().execute(),
      ])
      assert.ok(rows.includes(hashSecret(codeValue)), 'the code is found by its hash')
      for (const secret of [codeValue, String(body.refresh_token), app.secret, other.secret])
        assert.ok(!rows.includes(secret), 'a secret in clear in the database')
    })

    it('binds the code to its client: another client cannot redeem it, and the right one still can', async () => {
      const codeValue = await code()
      const stolen = await token({
        grant_type: 'authorization_code',
        code: codeValue,
        redirect_uri: REDIRECT,
        client_id: other.id,
        client_secret: other.secret,
      })
      assertOAuthError(stolen.response, stolen.body, 400, 'invalid_grant')
      const { response } = await exchange(codeValue)
      assert.equal(response.status, 200)
    })

    it('requires the redirect_uri of the authorization request, exactly (RFC 6749 §4.1.3)', async () => {
      const codeValue = await code(multi)
      for (const [what, redirectUri] of [
        ['the other registered URL', 'https://b.example.com/cb'],
        ['a path suffix', 'https://a.example.com/cb/'],
        ['left out, while the client has several', undefined],
      ] as const) {
        const body: Record<string, string> = { grant_type: 'authorization_code', code: codeValue, client_id: multi.id, client_secret: multi.secret }
        if (redirectUri !== undefined) body.redirect_uri = redirectUri
        const result = await token(body)
        assertOAuthError(result.response, result.body, 400, 'invalid_grant', what)
      }
      const { response } = await exchange(codeValue, multi)
      assert.equal(response.status, 200)
    })

    it('lets a code live 10 minutes and no longer (seed 000, RFC 6749 §4.1.2)', async () => {
      const young = await code()
      const old = await code()
      await later(10 * MINUTE - 1000, async () => {
        const { response } = await exchange(young)
        assert.equal(response.status, 200, 'still valid just before 10 minutes')
      })
      await later(10 * MINUTE, async () => {
        const { response, body } = await exchange(old)
        assertOAuthError(response, body, 400, 'invalid_grant')
      })
    })

    it('refuses a second redemption with invalid_grant and revokes every token issued from the code, refreshed ones too (RFC 6749 §4.1.2, §10.5)', async () => {
      const codeValue = await code()
      const first = await exchange(codeValue)
      assert.equal(first.response.status, 200)
      const refreshed = await refresh(String(first.body.refresh_token))
      assert.equal(refreshed.response.status, 200)
      assert.equal(await isActive(String(refreshed.body.access_token)), true)

      const replay = await exchange(codeValue)
      assertOAuthError(replay.response, replay.body, 400, 'invalid_grant')
      assert.equal(await isActive(String(refreshed.body.access_token)), false, 'the access token of the replayed code')
      assert.equal(await isActive(String(refreshed.body.refresh_token)), false, 'the refresh token of the replayed code')
      const again = await refresh(String(refreshed.body.refresh_token))
      assertOAuthError(again.response, again.body, 400, 'invalid_grant')
    })

    // On SQLite one process holds one connection and runs one statement at a
    // time, and these requests reach it one after another, so this copy
    // mostly meets a code already used: it passes with an unconditional
    // consume. The PostgreSQL copy, on a pool, interleaves for real and is the
    // proof for the issuance statement that redeems codes there; the unit tests
    // in src/oauth/grants and src/db/single-use race `consume`, the SQLite path,
    // on one SQLite database and on several connections to one file.
    it(`redeems a code once when 10 requests race for it: exactly one 200 [${dialect}]`, async () => {
      const codeValue = await code()
      const results = await Promise.all(Array.from({ length: 10 }, () => exchange(codeValue)))
      const statuses = results.map((r) => r.response.status).sort()
      assert.deepEqual(statuses, [200, 400, 400, 400, 400, 400, 400, 400, 400, 400])
      for (const r of results.filter((r) => r.response.status !== 200)) assert.equal(r.body.error, 'invalid_grant')
      const rows = await server.ctx.db.kysely.selectFrom('authorization_codes').select('grant_id').where('code_hash', '=', hashSecret(codeValue)).execute()
      const grantId = rows[0]!.grant_id
      const issued = await server.ctx.db.kysely.selectFrom('access_tokens').select('jti').where('grant_id', '=', grantId).execute()
      assert.equal(issued.length, 1, 'tokens were stored once')
      // The nine others are second redemptions, so the one success's tokens are revoked too (RFC 6749 §4.1.2).
      const winner = results.find((r) => r.response.status === 200)!
      assert.equal(await isActive(String(winner.body.access_token)), false)
    })

    it('binds the code to its PKCE challenge: no verifier or a wrong one is invalid_grant (RFC 7636 §4.6)', async () => {
      const { verifier, challenge } = pkcePair()
      const codeValue = await code(app, { code_challenge: challenge, code_challenge_method: 'S256' })
      for (const [what, extra] of [
        ['no code_verifier', {}],
        ['another verifier', { code_verifier: pkcePair().verifier }],
        ['the challenge as verifier ("plain")', { code_verifier: challenge }],
      ] as const) {
        const { response, body } = await exchange(codeValue, app, extra)
        assertOAuthError(response, body, 400, 'invalid_grant', what)
      }
      const { response } = await exchange(codeValue, app, { code_verifier: verifier })
      assert.equal(response.status, 200)
    })

    it('refuses a code_verifier for a code issued without a challenge: PKCE downgrade (RFC 9700 §4.8.2)', async () => {
      const { response, body } = await exchange(await code(), app, { code_verifier: pkcePair().verifier })
      assertOAuthError(response, body, 400, 'invalid_grant')
    })

    it('lets a public client redeem with client_id and code_verifier, without a secret (RFC 7636, RFC 8252 §8.4)', async () => {
      const { verifier, challenge } = pkcePair()
      const redirectUri = 'http://127.0.0.1:50123/callback'
      const codeValue = await codeFor(browser, {
        client_id: native.id,
        redirect_uri: redirectUri,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })
      const without = await token({ grant_type: 'authorization_code', code: codeValue, redirect_uri: redirectUri, client_id: native.id })
      assertOAuthError(without.response, without.body, 400, 'invalid_grant', 'no verifier')
      const portless = await token({ grant_type: 'authorization_code', code: codeValue, redirect_uri: LOOPBACK, client_id: native.id, code_verifier: verifier })
      assertOAuthError(portless.response, portless.body, 400, 'invalid_grant', 'the registered URL instead of the one with the port')
      const { response, body } = await token({
        grant_type: 'authorization_code',
        code: codeValue,
        redirect_uri: redirectUri,
        client_id: native.id,
        code_verifier: verifier,
      })
      assert.equal(response.status, 200, JSON.stringify(body))
      assert.equal(decodeJwt(String(body.access_token)).client_id, native.id)

      const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(body.refresh_token), client_id: native.id })
      assert.equal(refreshed.response.status, 200, 'a public client refreshes with its client_id alone')
    })

    it('returns scope only when scopes were granted, and puts them in the token', async () => {
      const withScopes = await tokens(app, { scope: 'write read' })
      assert.equal(withScopes.body.scope, 'read write')
      assert.deepEqual(decodeJwt(withScopes.access).scopes, ['read', 'write'])
      const without = await tokens()
      assert.equal('scope' in without.body, false)
      assert.deepEqual(decodeJwt(without.access).scopes, [])
    })
  })

  describe('refresh_token (RFC 6749 §6)', () => {
    it('rotates: the old refresh token and the access token issued with it stop working at once (seed 000)', async () => {
      const first = await tokens()
      const { response, body } = await refresh(first.refresh)
      assert.equal(response.status, 200, JSON.stringify(body))
      assert.notEqual(body.refresh_token, first.refresh)
      assert.notEqual(body.access_token, first.access)
      assert.equal(await isActive(first.access), false, 'the old access token')
      assert.equal(await isActive(first.refresh), false, 'the old refresh token')
      assert.equal(await isActive(String(body.access_token)), true, 'the new access token')
      const claims = decodeJwt(String(body.access_token))
      assert.equal(claims.sub, String(ada.id))
      assert.equal(claims.team_id, team.id)
    })

    it('revokes the whole family when a used refresh token comes back (RFC 9700 §4.14.2)', async () => {
      const first = await tokens()
      const second = await refresh(first.refresh)
      const third = await refresh(String(second.body.refresh_token))
      assert.equal(third.response.status, 200)

      const replay = await refresh(first.refresh)
      assertOAuthError(replay.response, replay.body, 400, 'invalid_grant')
      assert.equal(await isActive(String(third.body.access_token)), false, 'the newest access token')
      const next = await refresh(String(third.body.refresh_token))
      assertOAuthError(next.response, next.body, 400, 'invalid_grant', 'the newest refresh token')
    })

    it(`refreshes once when 10 requests race with one refresh token: exactly one 200 [${dialect}]`, async () => {
      const { refresh: refreshToken } = await tokens()
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(refreshToken)))
      const statuses = results.map((r) => r.response.status).sort()
      assert.deepEqual(statuses, [200, 400, 400, 400, 400, 400, 400, 400, 400, 400])
      for (const r of results.filter((r) => r.response.status !== 200)) assert.equal(r.body.error, 'invalid_grant')
      // The nine others presented a used refresh token: the family is revoked (RFC 9700 §4.14.2).
      const winner = results.find((r) => r.response.status === 200)!
      assert.equal(await isActive(String(winner.body.access_token)), false)
    })

    it('works only for the client it was issued to', async () => {
      const { refresh: refreshToken } = await tokens()
      const stolen = await refresh(refreshToken, other)
      assertOAuthError(stolen.response, stolen.body, 400, 'invalid_grant')
      const { response } = await refresh(refreshToken)
      assert.equal(response.status, 200)
    })

    it('may narrow the scope, never widen it; an empty scope is not "all permissions" (RFC 6749 §6)', async () => {
      const readOnly = await tokens(app, { scope: 'read' })
      const wider = await refresh(readOnly.refresh, app, { scope: 'read write' })
      assertOAuthError(wider.response, wider.body, 400, 'invalid_scope')

      const empty = await refresh(readOnly.refresh, app, { scope: '' })
      assert.equal(empty.response.status, 200, JSON.stringify(empty.body))
      assert.deepEqual(decodeJwt(String(empty.body.access_token)).scopes, ['read'], 'scope= must not turn a read grant into full access')

      const both = await tokens(app, { scope: 'read write' })
      const narrowed = await refresh(both.refresh, app, { scope: 'read' })
      assert.equal(narrowed.response.status, 200)
      assert.equal(narrowed.body.scope, 'read')
      assert.deepEqual(decodeJwt(String(narrowed.body.access_token)).scopes, ['read'])
    })

    it('lets a grant of all permissions (no scope) be narrowed to a scope', async () => {
      const all = await tokens()
      const narrowed = await refresh(all.refresh, app, { scope: 'read' })
      assert.equal(narrowed.response.status, 200, JSON.stringify(narrowed.body))
      assert.deepEqual(decodeJwt(String(narrowed.body.access_token)).scopes, ['read'])
    })
  })

  describe('password (seed 004, RFC 6749 §4.3)', () => {
    it('is only for first-party clients: others get unauthorized_client, even with the right password', async () => {
      const thirdParty = await token({ grant_type: 'password', client_id: app.id, client_secret: app.secret, username: 'ada@example.com', password: PASSWORD })
      assertOAuthError(thirdParty.response, thirdParty.body, 400, 'unauthorized_client', 'third-party client')
      const publicClient = await token({ grant_type: 'password', client_id: publicFirstParty.id, username: 'ada@example.com', password: PASSWORD })
      assertOAuthError(publicClient.response, publicClient.body, 400, 'unauthorized_client', 'public client')
    })

    it('answers an unknown user and a wrong password with the same invalid_grant', async () => {
      const [unknown, wrong] = await Promise.all([
        token({ grant_type: 'password', client_id: firstParty.id, client_secret: firstParty.secret, username: 'nobody@example.com', password: PASSWORD }),
        token({ grant_type: 'password', client_id: firstParty.id, client_secret: firstParty.secret, username: 'ada@example.com', password: 'wrong password' }),
      ])
      assertOAuthError(unknown.response, unknown.body, 400, 'invalid_grant', 'unknown user')
      assertOAuthError(wrong.response, wrong.body, 400, 'invalid_grant', 'wrong password')
      assert.deepEqual(unknown.body, wrong.body)
    })

    it('shares the login throttle with the login page, both ways, and a throttled password grant answers 429 with Retry-After (RFC 6585 §4)', async () => {
      const grant = (password: string) =>
        token({ grant_type: 'password', client_id: firstParty.id, client_secret: firstParty.secret, username: 'pat@example.com', password })
      // Failures on the login page and through the grant, from one address, add up to the per-account-and-address limit (5).
      // Sent together only to save time: each failure costs a scrypt hash.
      const failures = await Promise.all([
        ...Array.from({ length: 3 }, async () => (await logIn(new HttpClient(server.url), 'pat@example.com', 'wrong password')).status),
        ...Array.from({ length: 2 }, async () => (await grant('wrong password')).response.status),
      ])
      assert.deepEqual(failures, [401, 401, 401, 400, 400])
      const throttled = await grant(PASSWORD)
      // RFC 6585 §4: too many attempts is 429 with Retry-After, not a wrong password.
      assertOAuthError(throttled.response, throttled.body, 429, 'too_many_requests', 'the right password while throttled')
      assert.ok(Number(throttled.response.headers.get('retry-after')) >= 1, 'Retry-After in seconds')
      assert.equal((await logIn(new HttpClient(server.url), 'pat@example.com', PASSWORD)).status, 429, 'the login page is throttled too')
    })
  })
})
