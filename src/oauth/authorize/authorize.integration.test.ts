import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { decodeJwt } from 'jose'
import type { Team, User } from '../../accounts/types.js'
import { createUser } from '../../accounts/users.js'
import { registerClient } from '../../clients/clients.js'
import type { Client } from '../../clients/types.js'
import { upsertConsent } from '../../db/consents.js'
import { insertTeam, upsertMembership } from '../../db/teams.js'
import { forEachDialect } from '../../testing/dialects.js'
import { formField } from '../../testing/html.js'
import { HttpClient, logIn } from '../../testing/http-client.js'
import { authorize, authorizePath, browserFor, consentFields, pkcePair, postOAuth, redirectOf } from '../../testing/oauth.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const PASSWORD = 'correct horse battery'
const REDIRECT = 'https://app.example.com/callback'

async function countCodes(server: TestServer): Promise<number> {
  const row = await server.ctx.db.kysely
    .selectFrom('authorization_codes')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

await forEachDialect('GET/POST /oauth/authorize', (dialect) => {
  let server: TestServer
  let ada: User
  let primary: Team
  let secondary: Team
  let clientCount = 0

  /** A client of its own for each test, so no consent given in one test changes another. */
  async function newClient(
    options: { name?: string; redirectUris?: string[]; isConfidential?: boolean } = {},
  ): Promise<{ client: Client; secret: string | undefined }> {
    clientCount += 1
    return registerClient(
      server.ctx.db,
      server.ctx.keys,
      {
        name: options.name ?? `App ${clientCount}`,
        redirectUris: options.redirectUris ?? [REDIRECT],
        ownerUserId: ada.id,
        teamId: primary.id,
        isConfidential: options.isConfidential ?? true,
      },
      Date.now(),
    )
  }

  before(async () => {
    server = await startTestServer(dialect)
    const now = Date.now()
    // Memberships are listed by team name: "Analytical…" is the team a new session starts in.
    const created = await createUser(server.ctx.db, { email: 'ada@example.com', name: 'Ada Lovelace', password: PASSWORD, teamName: 'Analytical Engines' }, now)
    ada = created.user
    primary = created.team!
    secondary = await insertTeam(server.ctx.db.kysely, 'Difference Engines', now)
    await upsertMembership(server.ctx.db.kysely, secondary.id, ada.id, 'member', now)
  })
  after(() => server.stop())

  function assertErrorPage(response: Response, what: string): void {
    assert.equal(response.status, 400, what)
    assert.equal(response.headers.get('location'), null, `${what}: must not redirect`)
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/, what)
  }

  it('answers an unknown, missing or repeated client_id (or a repeated redirect_uri) with an error page, never a redirect (RFC 6749 §4.1.2.1)', async () => {
    const { client } = await newClient()
    const visitor = new HttpClient(server.url)
    const browser = await browserFor(server, ada)
    const cases: Record<string, string> = {
      'unknown client_id': authorizePath({ client_id: '00000000-0000-4000-8000-000000000000', redirect_uri: REDIRECT, response_type: 'code', state: 's' }),
      'no client_id': authorizePath({ redirect_uri: REDIRECT, response_type: 'code', state: 's' }),
      'empty client_id': authorizePath({ client_id: '', redirect_uri: REDIRECT, response_type: 'code' }),
      'client_id twice': `${authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' })}&client_id=${client.id}`,
      'redirect_uri twice': `${authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' })}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
    }
    for (const [what, path] of Object.entries(cases)) {
      assertErrorPage(await visitor.get(path), `${what} (not logged in)`)
      assertErrorPage(await browser.get(path), `${what} (logged in)`)
    }
  })

  it('answers a redirect_uri not registered for the client with an error page that does not link to it (RFC 9700 §4.1.3)', async () => {
    const { client } = await newClient()
    const other = await newClient({ redirectUris: ['https://other.example.com/callback'] })
    const browser = await browserFor(server, ada)
    const attacks: Record<string, string> = {
      'other host': 'https://evil.example/callback',
      subdomain: 'https://evil.app.example.com/callback',
      'registered host as a prefix': 'https://app.example.com.evil.example/callback',
      'path suffix': `${REDIRECT}/evil`,
      'dot segments': `${REDIRECT}/../evil`,
      'added query': `${REDIRECT}?next=https://evil.example`,
      'user@host': 'https://evil.example@app.example.com/callback',
      'registered host as user info': 'https://app.example.com@evil.example/callback',
      'encoded characters': 'https://app.example.com/%63allback',
      'encoded slash in the authority': 'https://app.example.com%2F@evil.example/callback',
      fragment: `${REDIRECT}#evil`,
      'http for a non-loopback host': 'http://app.example.com/callback',
      'upper-case host': 'https://APP.example.com/callback',
      "another client's redirect URL": other.client.redirectUris[0]!,
      empty: '',
    }
    for (const [what, redirectUri] of Object.entries(attacks)) {
      const response = await browser.get(authorizePath({ client_id: client.id, redirect_uri: redirectUri, response_type: 'code', state: 'st' }))
      assertErrorPage(response, what)
      const html = await response.text()
      assert.doesNotMatch(html, /(href|action|src|content)="[^"]*evil\.example/i, `${what}: the page links to the attacker's URL`)
    }
  })

  it('uses the only registered redirect URL when the request has none, and refuses when there are several (RFC 6749 §3.1.2.3)', async () => {
    const browser = await browserFor(server, ada)
    const single = await newClient()
    const back = await authorize(browser, { client_id: single.client.id, response_type: 'code', state: 'one' })
    assert.equal(back.origin + back.pathname, REDIRECT)
    assert.ok(back.searchParams.get('code'))
    assert.equal(back.searchParams.get('state'), 'one')

    const several = await newClient({ redirectUris: ['https://a.example.com/cb', 'https://b.example.com/cb'] })
    assertErrorPage(await browser.get(authorizePath({ client_id: several.client.id, response_type: 'code', state: 'two' })), 'several redirect URLs')
    const chosen = await authorize(browser, { client_id: several.client.id, redirect_uri: 'https://b.example.com/cb', response_type: 'code' })
    assert.equal(chosen.origin + chosen.pathname, 'https://b.example.com/cb')
  })

  it('accepts an http loopback redirect_uri on any port and sends the user back to that port (RFC 8252 §7.3)', async () => {
    const { client } = await newClient({ redirectUris: ['http://127.0.0.1/callback'], isConfidential: false })
    const browser = await browserFor(server, ada)
    const { challenge } = pkcePair()
    const back = await authorize(browser, {
      client_id: client.id,
      redirect_uri: 'http://127.0.0.1:49152/callback',
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })
    assert.equal(back.origin + back.pathname, 'http://127.0.0.1:49152/callback')
    assert.ok(back.searchParams.get('code'))
    assertErrorPage(
      await browser.get(
        authorizePath({
          client_id: client.id,
          redirect_uri: 'http://localhost:49152/callback',
          response_type: 'code',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      ),
      'loopback with another host name',
    )
  })

  it('reports every other error by redirect to the client with error, state and iss (RFC 6749 §4.1.2.1, RFC 9207)', async () => {
    const confidential = await newClient()
    const publicClient = await newClient({ isConfidential: false })
    const { challenge } = pkcePair()
    const base = { client_id: confidential.client.id, redirect_uri: REDIRECT, state: 'keep me' }
    const cases: [string, Record<string, string | undefined>, string][] = [
      ['no response_type', { ...base }, 'invalid_request'],
      ['response_type=token', { ...base, response_type: 'token' }, 'unsupported_response_type'],
      ['response_type=code id_token', { ...base, response_type: 'code id_token' }, 'unsupported_response_type'],
      ['unknown scope', { ...base, response_type: 'code', scope: 'read admin' }, 'invalid_scope'],
      ['public client without PKCE (RFC 9700 §2.1.1)', { ...base, client_id: publicClient.client.id, response_type: 'code' }, 'invalid_request'],
      [
        'code_challenge_method=plain (RFC 9700 §2.1.1)',
        { ...base, response_type: 'code', code_challenge: challenge, code_challenge_method: 'plain' },
        'invalid_request',
      ],
      ['code_challenge without a method (RFC 7636 §4.3 defaults to plain)', { ...base, response_type: 'code', code_challenge: challenge }, 'invalid_request'],
      ['code_challenge_method without a challenge', { ...base, response_type: 'code', code_challenge_method: 'S256' }, 'invalid_request'],
      ['malformed code_challenge', { ...base, response_type: 'code', code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request'],
    ]
    // Not logged in: the client learns of its mistake without the user logging in first.
    const visitor = new HttpClient(server.url)
    for (const [what, params, error] of cases) {
      const back = redirectOf(await visitor.get(authorizePath(params)))
      assert.equal(back.origin + back.pathname, REDIRECT, what)
      assert.equal(back.searchParams.get('error'), error, what)
      assert.equal(back.searchParams.get('state'), 'keep me', what)
      assert.equal(back.searchParams.get('iss'), server.ctx.config.issuer, what)
      assert.equal(back.searchParams.get('code'), null, what)
    }
  })

  it('sends a visitor who is not logged in to log in, then back to the same request', async () => {
    const { client } = await newClient({ name: 'Round Trip' })
    const browser = new HttpClient(server.url)
    const path = authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', state: 'a b&c', scope: 'read' })
    const first = await browser.get(path)
    assert.equal(first.status, 303)
    assert.equal(first.headers.get('location'), `/login?return_to=${encodeURIComponent(path)}`)
    const login = await logIn(browser, 'ada@example.com', PASSWORD, path)
    assert.equal(login.status, 303)
    assert.equal(login.headers.get('location'), path)
    const consent = await browser.get(path)
    assert.equal(consent.status, 200)
    assert.match(await consent.text(), /data-testid="client-name"><bdi>Round Trip<\/bdi></)
  })

  it('names the app (escaped), the user, the active team and the scopes on the consent page', async () => {
    const { client } = await newClient({ name: '<script>x</script>' })
    const browser = await browserFor(server, ada)
    const response = await browser.get(
      authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'read write', state: '"><script>y</script>' }),
    )
    assert.equal(response.status, 200)
    const html = await response.text()
    assert.ok(!html.includes('<script>'), 'unescaped markup from the client name or the state')
    assert.match(html, /data-testid="client-name"><bdi>&lt;script&gt;x&lt;\/script&gt;<\/bdi></)
    assert.ok(html.includes('Ada Lovelace') && html.includes('ada@example.com'), 'the user')
    assert.match(html, /data-testid="consent-team"><bdi>Analytical Engines<\/bdi></)
    assert.match(html, /data-scope="read"/)
    assert.match(html, /data-scope="write"/)
    assert.match(html, /<form method="post" action="\/oauth\/authorize"/)
    assert.match(html, /<button type="submit" name="decision" value="approve"/)
    assert.match(html, /<button type="submit" name="decision" value="deny"/)
    const fields = consentFields(html)
    assert.ok(fields._csrf && fields._csrf.length >= 32, 'a CSRF token in the form')
    assert.equal(fields.team_id, String(primary.id))
    assert.equal(fields.state, '"><script>y</script>')
  })

  it('never lets the consent page be framed or cached (clickjacking, RFC 6749 §10.13)', async () => {
    const { client } = await newClient()
    const browser = await browserFor(server, ada)
    const response = await browser.get(authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' }))
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
    assert.equal(response.headers.get('x-frame-options'), 'DENY')
    assert.equal(response.headers.get('cache-control'), 'no-store')
  })

  it("refuses an approval without the session's CSRF token, or without a session (RFC 6749 §10.12)", async () => {
    const { client } = await newClient()
    const browser = await browserFor(server, ada)
    const html = await (await browser.get(authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', state: 's' }))).text()
    const fields = consentFields(html)
    const before = await countCodes(server)

    const other = await browserFor(server, ada)
    for (const [what, csrf] of [
      ['no token', undefined],
      ['forged token', 'forged'],
      [
        "another session's token",
        consentFields(await (await other.get(authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' }))).text())._csrf,
      ],
    ] as const) {
      const form: Record<string, string> = { ...fields, decision: 'approve' }
      if (csrf === undefined) delete form._csrf
      else form._csrf = csrf
      const response = await browser.postForm('/oauth/authorize', form)
      assert.equal(response.status, 403, what)
      assert.equal(response.headers.get('location'), null, what)
    }
    const anonymous = await new HttpClient(server.url).postForm('/oauth/authorize', { ...fields, decision: 'approve' })
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.headers.get('location'), null)
    assert.equal(await countCodes(server), before, 'no code was issued')
  })

  it('approve redirects with the code, the state byte for byte and iss (RFC 6749 §4.1.2, RFC 9207)', async () => {
    const { client } = await newClient()
    const browser = await browserFor(server, ada)
    const states = ['xyz', 'a b+c&d=e/f?g#h%25;', 'ü😀€ 中文', `"'<>&amp;\\`, 'eyJyZXR1cm4iOiIvZGFzaGJvYXJkIn0=', "~!*()'", ' leading and trailing ']
    const codes = new Set<string>()
    for (const state of states) {
      // prompt=consent: every state goes through the consent form, not only the first.
      const response = await browser.get(authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', state, prompt: 'consent' }))
      assert.equal(response.status, 200, state)
      const fields = consentFields(await response.text())
      assert.equal(fields.state, state)
      const back = redirectOf(await browser.postForm('/oauth/authorize', { ...fields, decision: 'approve' }))
      assert.equal(back.origin + back.pathname, REDIRECT)
      assert.deepEqual([...back.searchParams.keys()].sort(), ['code', 'iss', 'state'])
      assert.equal(back.searchParams.get('state'), state)
      assert.equal(back.searchParams.get('iss'), server.ctx.config.issuer)
      const code = back.searchParams.get('code')!
      // At least 128 bits of randomness (RFC 6749 §10.10), base64url.
      assert.match(code, /^[A-Za-z0-9_-]{22,}$/)
      assert.ok(Buffer.from(code, 'base64url').length >= 16)
      codes.add(code)
    }
    assert.equal(codes.size, states.length, 'every code is new')

    const noState = await authorize(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' })
    assert.equal(noState.searchParams.has('state'), false, 'no state when none was sent')
  })

  it('keeps the query string of a registered redirect URL and adds the response to it (RFC 6749 §3.1.2)', async () => {
    const { client } = await newClient({ redirectUris: ['https://app.example.com/cb?tenant=1'] })
    const browser = await browserFor(server, ada)
    const back = await authorize(browser, { client_id: client.id, redirect_uri: 'https://app.example.com/cb?tenant=1', response_type: 'code', state: 'q' })
    assert.equal(back.searchParams.get('tenant'), '1')
    assert.ok(back.searchParams.get('code'))
    assert.equal(back.searchParams.get('state'), 'q')
  })

  it('deny redirects with error=access_denied, the state and iss, and no code (RFC 6749 §4.1.2.1)', async () => {
    const { client } = await newClient()
    const browser = await browserFor(server, ada)
    const before = await countCodes(server)
    const back = await authorize(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', state: 'deny me/+' }, 'deny')
    assert.equal(back.origin + back.pathname, REDIRECT)
    assert.equal(back.searchParams.get('error'), 'access_denied')
    assert.equal(back.searchParams.get('state'), 'deny me/+')
    assert.equal(back.searchParams.get('iss'), server.ctx.config.issuer)
    assert.equal(back.searchParams.get('code'), null)
    assert.equal(await countCodes(server), before)
    // A denial is not remembered as consent.
    assert.equal((await browser.get(authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' }))).status, 200)
  })

  it('skips the consent page when the user already approved this client for the same scopes in the active team', async () => {
    const { client } = await newClient()
    const browser = await browserFor(server, ada)
    const params = { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'read', state: 'again' }
    assert.equal((await browser.get(authorizePath(params))).status, 200, 'asked the first time')
    await authorize(browser, params)
    const second = await browser.get(authorizePath(params))
    const back = redirectOf(second)
    assert.ok(back.searchParams.get('code'))
    assert.equal(back.searchParams.get('state'), 'again')
    assert.equal(back.searchParams.get('iss'), server.ctx.config.issuer)

    // More than was approved: asked again.
    assert.equal((await browser.get(authorizePath({ ...params, scope: 'read write' }))).status, 200)
    // prompt=consent: asked again although approved.
    assert.equal((await browser.get(authorizePath({ ...params, prompt: 'consent' }))).status, 200)
  })

  it('asks again for a request without scope (full access) when only `read` was approved', async () => {
    const { client } = await newClient()
    const browser = await browserFor(server, ada)
    await authorize(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'read' })
    const response = await browser.get(authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' }))
    assert.equal(response.status, 200, "a token without scopes acts with all the user's permissions: the user approved only read")
    const back = redirectOf(await browser.postForm('/oauth/authorize', { ...consentFields(await response.text()), decision: 'approve' }))
    assert.ok(back.searchParams.get('code'))
    // Having approved all of their permissions, the user is not asked again for part of them.
    for (const scope of [undefined, 'read', 'read write']) {
      assert.equal(
        (await browser.get(authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope }))).status,
        302,
        String(scope),
      )
    }
  })

  it('asks again in another team, names it, and binds the code to it (seeds: tokens are limited to the team active at creation)', async () => {
    const { client, secret } = await newClient()
    const browser = await browserFor(server, ada)
    const params = { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' }
    await authorize(browser, params)
    const html = await (await browser.get('/')).text()
    const switched = await browser.postForm('/team', { team_id: String(secondary.id), _csrf: formField(html, '_csrf'), return_to: '/' })
    assert.equal(switched.status, 303)

    const consent = await browser.get(authorizePath(params))
    assert.equal(consent.status, 200, 'consent given in one team does not carry over to another')
    const page = await consent.text()
    assert.match(page, /data-testid="consent-team"><bdi>Difference Engines<\/bdi></)
    const back = redirectOf(await browser.postForm('/oauth/authorize', { ...consentFields(page), decision: 'approve' }))
    const { response, body } = await postOAuth(server, '/oauth/token', {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      client_id: client.id,
      client_secret: secret!,
    })
    assert.equal(response.status, 200, JSON.stringify(body))
    assert.equal(decodeJwt(String(body.access_token)).team_id, secondary.id)
  })

  it('shows the consent page again, without approving, when another team became active after the page was shown', async () => {
    const { client } = await newClient()
    const browser = await browserFor(server, ada)
    const html = await (await browser.get(authorizePath({ client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' }))).text()
    const home = await (await browser.get('/')).text()
    assert.equal((await browser.postForm('/team', { team_id: String(secondary.id), _csrf: formField(home, '_csrf'), return_to: '/' })).status, 303)
    const before = await countCodes(server)
    const response = await browser.postForm('/oauth/authorize', { ...consentFields(html), decision: 'approve' })
    assert.equal(response.status, 200)
    const page = await response.text()
    assert.match(page, /data-testid="consent-team"><bdi>Difference Engines<\/bdi></)
    assert.equal(await countCodes(server), before)
    const back = redirectOf(await browser.postForm('/oauth/authorize', { ...consentFields(page), decision: 'approve' }))
    assert.ok(back.searchParams.get('code'), 'approving the page that named the new team works')
  })

  it('refuses a consent decision whose client, redirect URI, scope, PKCE challenge, state, nonce, resource, response mode, login requirement or team differ from the page shown: 400, no code, no consent (RFC 6749 §4.1.2: the code answers the request the user approved)', async () => {
    const { client } = await newClient({ redirectUris: [REDIRECT, 'https://app.example.com/other'] })
    const other = await newClient()
    const publicClient = await newClient({ isConfidential: false })
    const browser = await browserFor(server, ada)
    const { challenge } = pkcePair()
    const shown = {
      client_id: client.id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'read',
      state: 'shown',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }
    const changes: Record<string, (fields: Record<string, string>) => Record<string, string>> = {
      'scope widened': (f) => ({ ...f, scope: 'read write' }),
      'scope removed (all permissions)': ({ scope: _scope, ...f }) => f,
      "another client's id": (f) => ({ ...f, client_id: other.client.id }),
      'a public client, without PKCE': ({ code_challenge: _c, code_challenge_method: _m, ...f }) => ({ ...f, client_id: publicClient.client.id }),
      'another registered redirect URI': (f) => ({ ...f, redirect_uri: 'https://app.example.com/other' }),
      'an unregistered redirect URI': (f) => ({ ...f, redirect_uri: 'https://evil.example/callback' }),
      'another PKCE challenge': (f) => ({ ...f, code_challenge: pkcePair().challenge }),
      'PKCE removed': ({ code_challenge: _c, code_challenge_method: _m, ...f }) => f,
      'another state': (f) => ({ ...f, state: 'forged' }),
      'prompt added': (f) => ({ ...f, prompt: 'consent' }),
      'nonce added': (f) => ({ ...f, nonce: 'forged' }),
      'resource added': (f) => ({ ...f, resource: 'https://api.example.com/' }),
      'response_mode changed': (f) => ({ ...f, response_mode: 'form_post' }),
      'max_age added': (f) => ({ ...f, max_age: '0' }),
      'a login mark added': (f) => ({ ...f, login_requested: `${Date.now()}.forged` }),
      'another team': (f) => ({ ...f, team_id: String(secondary.id) }),
    }
    const codesBefore = await countCodes(server)
    for (const [what, change] of Object.entries(changes)) {
      const fields = consentFields(await (await browser.get(authorizePath(shown))).text())
      const response = await browser.postForm('/oauth/authorize', { ...change(fields), decision: 'approve' })
      assertErrorPage(response, what)
      // The kept request is spent: the untouched form does not work afterwards either.
      assertErrorPage(await browser.postForm('/oauth/authorize', { ...fields, decision: 'approve' }), `${what}, then the original form`)
    }
    assert.equal(await countCodes(server), codesBefore, 'no code was issued')
    const consents = await server.ctx.db.kysely.selectFrom('consents').select('client_id').where('user_id', '=', ada.id).execute()
    for (const id of [client.id, other.client.id, publicClient.client.id]) assert.ok(!consents.some((c) => c.client_id === id), `no consent recorded for ${id}`)
  })

  it('takes a consent decision once, and only from the session that was shown the page (RFC 6749 §10.12)', async () => {
    const { client } = await newClient()
    const browser = await browserFor(server, ada)
    const params = { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', state: 'once', prompt: 'consent' }
    const fields = consentFields(await (await browser.get(authorizePath(params))).text())
    const other = await browserFor(server, ada)
    const otherCsrf = consentFields(await (await other.get(authorizePath(params))).text())._csrf!
    assertErrorPage(await other.postForm('/oauth/authorize', { ...fields, _csrf: otherCsrf, decision: 'approve' }), "another session's form")
    const before = await countCodes(server)
    assert.ok(redirectOf(await browser.postForm('/oauth/authorize', { ...fields, decision: 'approve' })).searchParams.get('code'))
    assertErrorPage(await browser.postForm('/oauth/authorize', { ...fields, decision: 'approve' }), 'the same form again')
    assertErrorPage(await browser.postForm('/oauth/authorize', { ...fields, request_id: 'made-up', decision: 'approve' }), 'an unknown request id')
    assert.equal(await countCodes(server), before + 1, 'one code for one decision')
  })

  it('shows the consent page to a public client every time, even after the user approved it (RFC 8252 §8.6, RFC 9700 §2.1.1)', async () => {
    const { client } = await newClient({ redirectUris: ['http://127.0.0.1/callback'], isConfidential: false })
    const browser = await browserFor(server, ada)
    const request = () => ({
      client_id: client.id,
      redirect_uri: 'http://127.0.0.1:6666/callback',
      response_type: 'code',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    })
    const back = await authorize(browser, request())
    assert.ok(back.searchParams.get('code'), 'approved once')
    const before = await countCodes(server)
    for (let i = 0; i < 2; i++) {
      const again = await browser.get(authorizePath(request()))
      assert.equal(again.status, 200, 'asked again: any local program could have started this request')
      assert.match(await again.text(), /name="decision" value="approve"/)
    }
    assert.equal(await countCodes(server), before, 'no code without the user seeing the page')
  })

  it('answers a stored redirect URL that cannot be sent back safely with an error page and mints no code, even with consent on file (no 500 for stored data)', async () => {
    const browser = await browserFor(server, ada)
    for (const stored of ['https://app.example.com/c\r\nSet-Cookie: x=1', 'https://app.exa\tmple.com/cb', 'https:///cb']) {
      const { client } = await newClient()
      // Stored before registration refused such URLs: written straight to the table.
      await server.ctx.db.kysely
        .updateTable('clients')
        .set({ redirect_uris: JSON.stringify([stored]) })
        .where('id', '=', client.id)
        .execute()
      await upsertConsent(server.ctx.db.kysely, ada.id, client.id, primary.id, { scopes: '', resources: '', implied: false }, Date.now())
      const before = await countCodes(server)
      for (const params of [{ redirect_uri: stored }, { redirect_uri: undefined }, { redirect_uri: stored, response_type: 'token' }]) {
        const response = await browser.get(authorizePath({ client_id: client.id, response_type: 'code', state: 's', ...params }))
        assertErrorPage(response, JSON.stringify(stored))
      }
      assert.equal(await countCodes(server), before, 'no code was minted')
    }
  })
})
