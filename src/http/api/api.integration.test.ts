import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SignJWT, generateKeyPair } from 'jose'
import { addMember } from '../../accounts/teams.js'
import { setDisabled } from '../../accounts/users.js'
import type { User } from '../../accounts/types.js'
import { createPersonalAccessToken, deletePersonalAccessToken } from '../../tokens/personal-access-tokens.js'
import { forEachDialect } from '../../testing/dialects.js'
import { REDIRECT, seedClient, seedUser } from '../../testing/fixtures.js'
import { browserFor, codeFor, postOAuth, redeemCode, refreshExchange, type IssuedTokens } from '../../testing/oauth.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

interface Fixture {
  user: User
  teamId: number
  clientId: string
  clientSecret: string
}

async function setUp(server: TestServer, email: string, teamName: string): Promise<Fixture> {
  const owner = await seedUser(server.ctx.db, email, { name: 'Bob Gale', team: teamName })
  const { id, secret } = await seedClient(server.ctx, owner, { name: 'Example App' })
  return { user: owner.user, teamId: owner.team!.id, clientId: id, clientSecret: secret }
}

/** Runs the authorization code flow and returns the token response. */
async function tokensFor(server: TestServer, f: Fixture, scope?: string): Promise<IssuedTokens> {
  const browser = await browserFor(server, f.user)
  const code = await codeFor(browser, { client_id: f.clientId, redirect_uri: REDIRECT, response_type: 'code', scope, prompt: 'consent' })
  return redeemCode(server, { id: f.clientId, secret: f.clientSecret }, code)
}

function api(server: TestServer, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(new URL(path, server.url), init)
}

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } }
}

await forEachDialect('protected API', (dialect) => {
  let server: TestServer
  let f: Fixture
  let token: string

  before(async () => {
    server = await startTestServer(dialect)
    f = await setUp(server, 'bob@example.com', 'Acme')
    token = (await tokensFor(server, f)).access_token
  })
  after(() => server.stop())

  it('GET /api/v2/me answers as seed 001 shows, with rate-limit headers counting down', async () => {
    const first = await api(server, '/api/v2/me', bearer(token))
    assert.equal(first.status, 200)
    assert.match(first.headers.get('content-type') ?? '', /^application\/json/)
    const body = (await first.json()) as Record<string, unknown>
    assert.deepEqual(Object.keys(body), ['object', 'id', 'name', 'email', 'is_verified', 'is_disabled', 'is_service_account', 'created_at', 'updated_at'])
    assert.equal(body.object, 'user')
    assert.equal(body.id, f.user.id)
    assert.equal(body.email, 'bob@example.com')
    assert.equal(body.is_verified, true)
    assert.equal(body.is_disabled, false)
    assert.equal(body.is_service_account, false)
    assert.match(String(body.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.equal(first.headers.get('x-ratelimit-limit'), '200')
    const remaining = Number(first.headers.get('x-ratelimit-remaining'))
    const second = await api(server, '/api/v2/me', bearer(token))
    assert.equal(Number(second.headers.get('x-ratelimit-remaining')), remaining - 1)
    assert.ok(Number(second.headers.get('x-ratelimit-reset')) > Date.now() / 1000)
  })

  it('accepts the Bearer scheme name in any letter case (RFC 6750 §2.1)', async () => {
    const response = await api(server, '/api/v2/me', { headers: { authorization: `bEaReR ${token}` } })
    assert.equal(response.status, 200)
  })

  it('answers a request without credentials with 401 and a Bearer challenge (RFC 6750 §3)', async () => {
    const response = await api(server, '/api/v2/me')
    assert.equal(response.status, 401)
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer realm="gatehouse", resource_metadata="${server.url}/.well-known/oauth-protected-resource/api/v2"`,
    )
    const body = (await response.json()) as Record<string, unknown>
    assert.equal(body.error, 'unauthenticated')
    assert.equal(typeof body.message, 'string')
  })

  it('refuses a token in the query string with 400 invalid_request, even next to a valid header (seed 002)', async () => {
    for (const init of [{}, bearer(token)]) {
      const query = await api(server, `/api/v2/me?access_token=${token}`, init)
      assert.equal(query.status, 400)
      assert.equal(((await query.json()) as Record<string, unknown>).error, 'invalid_request')
    }
  })

  it('refuses malformed, forged, alg=none and unknown-kid tokens with invalid_token (RFC 6750 §3.1)', async () => {
    const [header, payload] = token.split('.')
    const { privateKey } = await generateKeyPair('RS256')
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>
    const kid = (JSON.parse(Buffer.from(header!, 'base64url').toString()) as { kid: string }).kid
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(privateKey)
    const unknownKid = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'nope' }).sign(privateKey)
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')}.${payload}.`
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: '999' })).toString('base64url')}.${token.split('.')[2]}`
    for (const bad of ['garbage', forged, unknownKid, none, tampered, token + 'x']) {
      const response = await api(server, '/api/v2/me', bearer(bad))
      assert.equal(response.status, 401, bad.slice(0, 40))
      assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
      assert.equal(((await response.json()) as Record<string, unknown>).error, 'invalid_token')
    }
    const malformed = await api(server, '/api/v2/me', { headers: { authorization: 'Basic abc' } })
    assert.equal(malformed.status, 401)
  })

  it('refuses a revoked token at once, though its signature is still valid', async () => {
    const tokens = await tokensFor(server, f)
    assert.equal((await api(server, '/api/v2/me', bearer(tokens.access_token))).status, 200)
    const revoked = await postOAuth(server, '/oauth/revoke', { token: tokens.access_token, client_id: f.clientId, client_secret: f.clientSecret })
    assert.equal(revoked.response.status, 200)
    assert.equal((await api(server, '/api/v2/me', bearer(tokens.access_token))).status, 401)
  })

  it('refuses the old access token once its refresh token was used (seed 000)', async () => {
    const tokens = await tokensFor(server, f)
    const refreshed = await refreshExchange(server, { id: f.clientId, secret: f.clientSecret }, tokens.refresh_token)
    assert.equal(refreshed.response.status, 200)
    assert.equal((await api(server, '/api/v2/me', bearer(tokens.access_token))).status, 401)
    assert.equal((await api(server, '/api/v2/me', bearer(String(refreshed.body.access_token)))).status, 200)
  })

  it("stops a disabled user's tokens", async () => {
    const other = await setUp(server, 'disabled@example.com', 'Disabled team')
    const tokens = await tokensFor(server, other)
    assert.equal((await api(server, '/api/v2/me', bearer(tokens.access_token))).status, 200)
    await setDisabled(server.ctx.db, 'disabled@example.com', true, Date.now())
    assert.equal((await api(server, '/api/v2/me', bearer(tokens.access_token))).status, 401)
  })

  it("GET /api/v2/team answers with the token's team, not the user's other teams", async () => {
    await seedUser(server.ctx.db, 'owner@example.com', { team: 'Other team' })
    await addMember(server.ctx.db, 'Other team', 'bob@example.com', 'member', Date.now())
    const response = await api(server, '/api/v2/team', bearer(token))
    assert.equal(response.status, 200)
    const body = (await response.json()) as Record<string, unknown>
    assert.deepEqual({ object: body.object, id: body.id, name: body.name }, { object: 'team', id: f.teamId, name: 'Acme' })
  })

  it('accepts a personal access token through the same check, and refuses it once deleted', async () => {
    const { token: pat, record } = await createPersonalAccessToken(server.ctx.db, { userId: f.user.id, teamId: f.teamId, name: 'CI' }, Date.now())
    const response = await api(server, '/api/v2/me', bearer(pat))
    assert.equal(response.status, 200)
    assert.equal(((await response.json()) as Record<string, unknown>).id, f.user.id)
    // Deleted as the portal deletes it: the write tells this process's cache at once.
    await deletePersonalAccessToken(server.ctx.db, record.id, f.user.id)
    assert.equal((await api(server, '/api/v2/me', bearer(pat))).status, 401)
    assert.equal((await api(server, '/api/v2/me', bearer(pat.slice(0, -1) + (pat.endsWith('A') ? 'B' : 'A')))).status, 401)
  })

  it('answers a body that is not exactly application/json with 415 (seed 004)', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'text/plain']) {
      const response = await api(server, '/api/v2/me', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: 'a=b' })
      assert.equal(response.status, 415, type)
      assert.equal(((await response.json()) as Record<string, unknown>).error, 'unsupported_media_type')
    }
  })

  it('answers unknown API routes with a JSON 404', async () => {
    const response = await api(server, '/api/v2/nothing-here', bearer(token))
    assert.equal(response.status, 404)
    assert.equal(((await response.json()) as Record<string, unknown>).error, 'not_found')
  })

  it('refuses a token whose scopes do not include what the route needs (RFC 6750 §3.1 insufficient_scope)', async () => {
    const writeOnly = await tokensFor(server, f, 'write')
    const response = await api(server, '/api/v2/me', bearer(writeOnly.access_token))
    assert.equal(response.status, 403)
    assert.match(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/)
    const readable = await tokensFor(server, f, 'read')
    assert.equal((await api(server, '/api/v2/me', bearer(readable.access_token))).status, 200)
  })

  it('counts API calls per token and minute (calls, last path and status) instead of an activity row per call', async () => {
    await server.ctx.activity.flush()
    const before = await server.ctx.db.kysely
      .selectFrom('activities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    for (let i = 0; i < 3; i++) assert.equal((await api(server, '/api/v2/me', bearer(token))).status, 200)
    assert.equal((await api(server, '/api/v2/team', bearer(token))).status, 200)
    await server.ctx.usage.flush()
    await server.ctx.activity.flush()
    const after = await server.ctx.db.kysely
      .selectFrom('activities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    assert.equal(Number(after.n), Number(before.n), 'API calls wrote activity rows')
    const rows = await server.ctx.db.kysely.selectFrom('api_usage').selectAll().where('client_id', '=', f.clientId).execute()
    const jti = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti
    const mine = rows.filter((r) => r.token_id === jti)
    assert.ok(mine.length >= 1)
    assert.ok(mine.every((r) => Number(r.user_id) === f.user.id && Number(r.team_id) === f.teamId))
    assert.ok(mine.reduce((sum, r) => sum + Number(r.calls), 0) >= 4)
    const latest = mine.sort((a, b) => Number(b.last_at) - Number(a.last_at))[0]!
    assert.deepEqual([latest.last_path, latest.last_status], ['GET /api/v2/team', 200])
  })

  it("records token events in the team's activity log, newest first, with cursor pages", async () => {
    await server.ctx.activity.flush()
    const first = await api(server, '/api/v2/activities?limit=2', bearer(token))
    assert.equal(first.status, 200)
    const page = (await first.json()) as {
      object: string
      data: { id: number; action: string; detail: string | null }[]
      has_more: boolean
      next_cursor: string
    }
    assert.equal(page.object, 'list')
    assert.equal(page.data.length, 2)
    assert.ok(page.data[0]!.id > page.data[1]!.id)
    assert.equal(page.has_more, true)
    const next = (await (await api(server, `/api/v2/activities?limit=100&cursor=${page.next_cursor}`, bearer(token))).json()) as typeof page
    assert.ok(next.data.every((a) => a.id < page.data[1]!.id))
    const all = [...page.data, ...next.data]
    const actions = new Set(all.map((a) => a.action))
    for (const action of ['token.issued', 'token.refreshed', 'token.revoked', 'app.authorised']) assert.ok(actions.has(action), action)
    assert.ok(!actions.has('api.request'))
    const serialized = JSON.stringify(all)
    assert.ok(!serialized.includes(token.split('.')[2]!), 'no token in the log')
    assert.equal((await api(server, '/api/v2/activities?cursor=abc', bearer(token))).status, 400)
  })
})

describe('client address behind a proxy', () => {
  for (const [trustProxy, expected] of [
    [false, '127.0.0.1'],
    [['127.0.0.1'], '203.0.113.7'],
  ] as const) {
    it(`records ${expected} with GATEHOUSE_TRUST_PROXY=${String(trustProxy)}`, async () => {
      const server = await startTestServer('sqlite', { trustProxy: trustProxy === false ? false : [...trustProxy] })
      try {
        const f = await setUp(server, 'proxied@example.com', 'Proxied')
        const { refresh_token } = await tokensFor(server, f)
        const refreshed = await api(server, '/oauth/token', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.7' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, client_id: f.clientId, client_secret: f.clientSecret }),
        })
        assert.equal(refreshed.status, 200)
        await server.ctx.activity.flush()
        const entry = await server.ctx.db.kysely.selectFrom('activities').select('address').where('action', '=', 'token.refreshed').executeTakeFirstOrThrow()
        assert.equal(entry.address, expected)
      } finally {
        await server.stop()
      }
    })
  }
})

describe('rate limits', () => {
  let server: TestServer
  let f: Fixture

  before(async () => {
    server = await startTestServer('sqlite', { rateLimit: 3, rateLimitWindow: 60 })
    f = await setUp(server, 'limited@example.com', 'Limited')
  })
  after(() => server.stop())

  it('answers past the limit with 429 and Retry-After, per user', async () => {
    const { access_token } = await tokensFor(server, f)
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await api(server, '/api/v2/me', bearer(access_token))).status)
    assert.deepEqual(statuses, [200, 200, 200, 429])
    const refused = await api(server, '/api/v2/me', bearer(access_token))
    assert.equal(refused.headers.get('x-ratelimit-remaining'), '0')
    assert.ok(Number(refused.headers.get('retry-after')) >= 1)
    assert.equal(((await refused.json()) as Record<string, unknown>).error, 'rate_limited')
  })
})
