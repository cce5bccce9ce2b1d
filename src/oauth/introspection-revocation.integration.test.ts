import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose'
import type { User } from '../accounts/types.js'
import { createUser } from '../accounts/users.js'
import { registerClient } from '../clients/clients.js'
import { deleteMembership } from '../db/teams.js'
import { forEachDialect } from '../testing/dialects.js'
import type { HttpClient } from '../testing/http-client.js'
import { basicAuth, browserFor, codeFor, introspect, pkceExchange, pkcePair, postOAuth, refreshExchange, type Json } from '../testing/oauth.js'
import { exchangeCode } from '../testing/openid.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { pruneExpired } from '../tokens/prune.js'

const PASSWORD = 'correct horse battery'
const REDIRECT = 'https://example.com/callback'
const TTL = 3600

interface Registered {
  id: string
  secret: string
  redirectUri: string
}

await forEachDialect('introspection (RFC 7662), revocation (RFC 7009) and pruning', (dialect) => {
  let server: TestServer
  let offset = 0
  let ada: User
  let browser: HttpClient
  let app: Registered
  let other: Registered
  let firstParty: Registered
  let native: Registered

  async function register(name: string, options: { isConfidential?: boolean; isFirstParty?: boolean; redirectUri?: string } = {}): Promise<Registered> {
    const redirectUri = options.redirectUri ?? REDIRECT
    const { client, secret } = await registerClient(
      server.ctx.db,
      server.ctx.keys,
      {
        name,
        redirectUris: [redirectUri],
        ownerUserId: ada.id,
        teamId: (await server.ctx.db.kysely.selectFrom('teams').select('id').where('name', '=', 'Engines').executeTakeFirstOrThrow()).id,
        ...options,
      },
      Date.now(),
    )
    return { id: client.id, secret: secret ?? '', redirectUri }
  }

  async function tokensFor(client: Registered, scope?: string, as = browser): Promise<{ access: string; refresh: string }> {
    const code = await codeFor(as, { client_id: client.id, redirect_uri: client.redirectUri, response_type: 'code', scope })
    const body = await exchangeCode(server, client, code)
    return { access: String(body.access_token), refresh: String(body.refresh_token) }
  }

  function revoke(token: string, client: Registered, extra: Record<string, string> = {}) {
    const credentials: Record<string, string> = client.secret === '' ? { client_id: client.id } : { client_id: client.id, client_secret: client.secret }
    return postOAuth(server, '/oauth/revoke', { token, ...credentials, ...extra })
  }

  before(async () => {
    server = await startTestServer(dialect, { accessTokenTtlSeconds: TTL }, () => Date.now() + offset)
    ada = (await createUser(server.ctx.db, { email: 'ada@example.com', name: 'Ada', password: PASSWORD, teamName: 'Engines' }, Date.now())).user
    app = await register('Example App')
    other = await register('Other App')
    firstParty = await register('Our Resource Server', { isFirstParty: true })
    native = await register('Native Tool', { isConfidential: false, redirectUri: 'http://127.0.0.1/callback' })
    browser = await browserFor(server, ada)
  })
  after(() => server.stop())

  describe('introspection', () => {
    it('requires client authentication: none, a wrong secret or a public client get 401 invalid_client (RFC 7662 §2.1)', async () => {
      const { access } = await tokensFor(app)
      for (const [what, credentials, headers] of [
        ['no client', {}, {}],
        ['wrong secret', { client_id: app.id, client_secret: 'wrong' }, {}],
        ['wrong Basic secret', {}, { authorization: basicAuth(app.id, 'wrong') }],
        ['public client by client_id alone', { client_id: native.id }, {}],
      ] as const) {
        const { response, body } = await postOAuth(server, '/oauth/introspect', { token: access, ...credentials }, headers)
        assert.equal(response.status, 401, what)
        assert.equal(body.error, 'invalid_client', what)
        assert.equal(body.active, undefined, `${what}: nothing about the token`)
      }
    })

    it('describes an active access token: active, scope, client_id, sub, exp, iat, iss, token_type (RFC 7662 §2.2)', async () => {
      const { access } = await tokensFor(app, 'read')
      const { response, body } = await postOAuth(server, '/oauth/introspect', { token: access }, { authorization: basicAuth(app.id, app.secret) })
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('cache-control'), 'no-store')
      const claims = decodeJwt(access)
      assert.equal(body.active, true)
      assert.equal(body.scope, 'read')
      assert.equal(body.client_id, app.id)
      assert.equal(body.sub, String(ada.id))
      assert.equal(body.exp, claims.exp)
      assert.equal(body.iat, claims.iat)
      assert.equal(body.iss, server.ctx.config.issuer)
      assert.equal(body.token_type, 'Bearer')
      assert.equal((body.exp as number) - (body.iat as number), TTL)
    })

    it('describes an active refresh token, and accepts a JSON body', async () => {
      const { refresh } = await tokensFor(app)
      const { response, body } = await postOAuth(server, '/oauth/introspect', {
        json: { token: refresh, token_type_hint: 'refresh_token', client_id: app.id, client_secret: app.secret },
      })
      assert.equal(response.status, 200)
      assert.equal(body.active, true)
      assert.equal(body.client_id, app.id)
      assert.equal(body.sub, String(ada.id))
      assert.equal(body.iss, server.ctx.config.issuer)
    })

    it('tells a client the e-mail address as username only with the email scope (OpenID Connect Core §5.4, RFC 7662 §2.2)', async () => {
      const identityOnly = await tokensFor(app, 'openid')
      for (const [what, token] of [
        ['access token', identityOnly.access],
        ['refresh token', identityOnly.refresh],
      ] as const) {
        const body = await introspect(server, token, app.id, app.secret)
        assert.equal(body.active, true, what)
        assert.equal(body.username, undefined, `${what} for scope=openid`)
        assert.equal(body.sub, String(ada.id), what)
        assert.equal((await introspect(server, token, firstParty.id, firstParty.secret)).username, ada.email, `${what} to a first-party client`)
      }
      const withEmail = await tokensFor(app, 'openid email')
      assert.equal((await introspect(server, withEmail.access, app.id, app.secret)).username, ada.email, 'access token with email')
      assert.equal((await introspect(server, withEmail.refresh, app.id, app.secret)).username, ada.email, 'refresh token with email')
      const unrestricted = await tokensFor(app)
      assert.equal((await introspect(server, unrestricted.access, app.id, app.secret)).username, ada.email, 'a token without scopes holds all permissions')
    })

    it('answers unknown, malformed, forged and expired tokens with exactly {"active":false} (RFC 7662 §2.2)', async () => {
      const { access, refresh } = await tokensFor(app)
      const [header, payload] = access.split('.')
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(access), sub: '999' })).toString('base64url')}.${access.split('.')[2]}`
      // Same kid, another key: only the signature tells it apart.
      const { privateKey } = await generateKeyPair('RS256')
      const forged = await new SignJWT(decodeJwt(access))
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: decodeProtectedHeader(access).kid! })
        .sign(privateKey)
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: decodeProtectedHeader(access).kid })).toString('base64url')}.${payload}.`
      for (const [what, token] of [
        ['unknown', 'no-such-token'],
        ['three dots', 'a.b.c'],
        ['tampered claims', tampered],
        ['another key with the same kid', forged],
        ['alg none', unsigned],
        ['a refresh token with a character changed', refresh.slice(0, -1) + (refresh.endsWith('A') ? 'B' : 'A')],
      ] as const) {
        assert.deepEqual(await introspect(server, token, app.id, app.secret), { active: false }, what)
      }
      offset += (TTL + 1) * 1000
      try {
        assert.deepEqual(await introspect(server, access, app.id, app.secret), { active: false }, 'expired')
      } finally {
        offset -= (TTL + 1) * 1000
      }
      assert.equal((await introspect(server, access, app.id, app.secret)).active, true, 'the same token before it expired')
    })

    it('answers another client\'s token with {"active":false}; a first-party client may introspect any token (design decision)', async () => {
      const { access, refresh } = await tokensFor(app)
      assert.deepEqual(await introspect(server, access, other.id, other.secret), { active: false })
      assert.deepEqual(await introspect(server, refresh, other.id, other.secret), { active: false })
      const seen = await introspect(server, access, firstParty.id, firstParty.secret)
      assert.equal(seen.active, true)
      assert.equal(seen.client_id, app.id)
      assert.equal((await introspect(server, refresh, firstParty.id, firstParty.secret)).active, true)
    })

    it('answers {"active":false} for a refresh token whose user is no longer in its team, as the refresh grant refuses it', async () => {
      const { user: sam, team } = await createUser(
        server.ctx.db,
        { email: 'sam@example.com', name: 'Sam', password: PASSWORD, teamName: 'Engines' },
        Date.now(),
      )
      const { access, refresh } = await tokensFor(app, undefined, await browserFor(server, sam))
      assert.equal((await introspect(server, refresh, app.id, app.secret)).active, true, 'while a member')
      // Only the membership ends here, not the grant: the token's standing alone must decide.
      await deleteMembership(server.ctx.db.kysely, team!.id, sam.id)
      assert.deepEqual(await introspect(server, refresh, app.id, app.secret), { active: false })
      assert.deepEqual(await introspect(server, access, app.id, app.secret), { active: false })
      const { response, body } = await postOAuth(server, '/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: refresh,
        client_id: app.id,
        client_secret: app.secret,
      })
      assert.equal(response.status, 400)
      assert.equal(body.error, 'invalid_grant')
    })

    it('refuses a request without token with invalid_request', async () => {
      const { response, body } = await postOAuth(server, '/oauth/introspect', { client_id: app.id, client_secret: app.secret })
      assert.equal(response.status, 400)
      assert.equal(body.error, 'invalid_request')
    })
  })

  describe('revocation', () => {
    it('requires client authentication, and leaves the token alone when it fails (RFC 7009 §2.1)', async () => {
      const { access } = await tokensFor(app)
      const { response, body } = await postOAuth(server, '/oauth/revoke', { token: access, client_id: app.id, client_secret: 'wrong' })
      assert.equal(response.status, 401)
      assert.equal(body.error, 'invalid_client')
      const basic = await postOAuth(server, '/oauth/revoke', { token: access }, { authorization: basicAuth(app.id, 'wrong') })
      assert.equal(basic.response.status, 401)
      assert.match(basic.response.headers.get('www-authenticate') ?? '', /^Basic /)
      assert.equal((await introspect(server, access, app.id, app.secret)).active, true)
    })

    it('ends an access token at once, although its signature stays valid (RFC 7009 §2.1)', async () => {
      const { access, refresh } = await tokensFor(app)
      const { response, body } = await revoke(access, app)
      assert.equal(response.status, 200)
      assert.deepEqual(body, {})
      assert.equal(response.headers.get('cache-control'), 'no-store')
      assert.deepEqual(await introspect(server, access, app.id, app.secret), { active: false })
      assert.equal((await introspect(server, refresh, app.id, app.secret)).active, true, 'the refresh token is a separate credential')
    })

    it('ends a refresh token together with its access tokens, and it can no longer refresh (RFC 7009 §2.1)', async () => {
      const { access, refresh } = await tokensFor(app)
      const { response } = await revoke(refresh, app)
      assert.equal(response.status, 200)
      assert.deepEqual(await introspect(server, access, app.id, app.secret), { active: false })
      assert.deepEqual(await introspect(server, refresh, app.id, app.secret), { active: false })
      const again = await refreshExchange(server, app, refresh)
      assert.equal(again.response.status, 400)
      assert.equal(again.body.error, 'invalid_grant')
    })

    it('finds the token whatever token_type_hint says (RFC 7009 §2.1)', async () => {
      const { access } = await tokensFor(app)
      assert.equal((await revoke(access, app, { token_type_hint: 'refresh_token' })).response.status, 200)
      assert.deepEqual(await introspect(server, access, app.id, app.secret), { active: false })
    })

    it('answers an unknown token with 200 (RFC 7009 §2.2), a missing one with invalid_request', async () => {
      for (const token of ['no-such-token', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.']) {
        const { response } = await revoke(token, app)
        assert.equal(response.status, 200, token)
      }
      const { response, body } = await postOAuth(server, '/oauth/revoke', { client_id: app.id, client_secret: app.secret })
      assert.equal(response.status, 400)
      assert.equal(body.error, 'invalid_request')
    })

    it("answers another client's token with 200 and leaves it alone (RFC 7009 §2.1)", async () => {
      const { access, refresh } = await tokensFor(app)
      assert.equal((await revoke(access, other)).response.status, 200)
      assert.equal((await revoke(refresh, other)).response.status, 200)
      assert.equal((await revoke(refresh, firstParty)).response.status, 200)
      assert.equal((await introspect(server, access, app.id, app.secret)).active, true)
      assert.equal((await introspect(server, refresh, app.id, app.secret)).active, true)
    })

    it('lets a public client revoke its own tokens by client_id (RFC 7009 §2.1, §5)', async () => {
      const { verifier, challenge } = pkcePair()
      const code = await codeFor(browser, {
        client_id: native.id,
        redirect_uri: native.redirectUri,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })
      const issued = await pkceExchange(server, { clientId: native.id, code, redirectUri: native.redirectUri, verifier })
      assert.equal(issued.response.status, 200, JSON.stringify(issued.body))
      assert.equal((await revoke(String(issued.body.refresh_token), native)).response.status, 200)
      assert.deepEqual(await introspect(server, String(issued.body.access_token), firstParty.id, firstParty.secret), { active: false })
    })
  })

  describe('pruning', () => {
    async function expiredRows(now: number): Promise<Json> {
      const db = server.ctx.db.kysely
      const count = async (table: 'authorization_codes' | 'access_tokens' | 'refresh_tokens') =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number | string>().as('n'))
              .where('expires_at', '<=', now)
              .executeTakeFirstOrThrow()
          ).n,
        )
      return {
        authorization_codes: await count('authorization_codes'),
        access_tokens: await count('access_tokens'),
        refresh_tokens: await count('refresh_tokens'),
      }
    }

    async function liveRows(): Promise<number> {
      const db = server.ctx.db.kysely
      let n = 0
      for (const table of ['authorization_codes', 'access_tokens', 'refresh_tokens'] as const) {
        n += Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number | string>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        )
      }
      return n
    }

    it('deletes expired codes and tokens, revoked ones past expiry too, and keeps everything still alive (gatehouse tokens prune)', async () => {
      const live = await tokensFor(app)
      const revoked = await tokensFor(app)
      await revoke(revoked.refresh, app)
      // A code never redeemed, so one is left to expire.
      await codeFor(browser, { client_id: app.id, redirect_uri: REDIRECT, response_type: 'code' })

      offset += 11 * 60_000
      try {
        const expected = await expiredRows(server.ctx.clock())
        assert.ok((expected.authorization_codes as number) > 0)
        assert.equal(expected.access_tokens, 0)
        const counts = await pruneExpired(server.ctx)
        assert.equal(counts.authorization_codes, expected.authorization_codes)
        assert.equal(counts.access_tokens, 0)
        assert.equal((await introspect(server, live.access, app.id, app.secret)).active, true, 'a live token survives')

        offset += TTL * 1000
        const expired = await expiredRows(server.ctx.clock())
        assert.ok((expired.access_tokens as number) >= 2, 'the live and the revoked access token are past expiry')
        const before = await liveRows()
        const second = await pruneExpired(server.ctx)
        assert.equal(second.access_tokens, expired.access_tokens)
        assert.equal(second.refresh_tokens, expired.refresh_tokens)
        assert.deepEqual(await expiredRows(server.ctx.clock()), { authorization_codes: 0, access_tokens: 0, refresh_tokens: 0 })
        assert.equal(
          await liveRows(),
          before - (expired.access_tokens as number) - (expired.refresh_tokens as number) - (expired.authorization_codes as number),
        )
        // Refresh tokens live longer than access tokens: the live one still refreshes.
        const refreshed = await refreshExchange(server, app, live.refresh)
        assert.equal(refreshed.response.status, 200, JSON.stringify(refreshed.body))
        assert.deepEqual(await introspect(server, revoked.refresh, app.id, app.secret), { active: false })
      } finally {
        offset = 0
      }
    })
  })
})
