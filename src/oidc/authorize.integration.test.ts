import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachDialect } from '../testing/dialects.js'
import { PASSWORD, REDIRECT, seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { hiddenFields } from '../testing/html.js'
import { HttpClient } from '../testing/http-client.js'
import { authorize, authorizePath, browserFor, codeFor, consentFields, pkcePair, redeemCode, redirectOf } from '../testing/oauth.js'
import { exchangeCode, verifyIdToken, type TestClient } from '../testing/openid.js'
import { startTestServer, type TestServer } from '../testing/server.js'

await forEachDialect('OpenID Connect authorization requests (OpenID Connect Core §3.1.2)', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let app: SeededClient
  let client: TestClient
  let offset = 0

  const request = (params: Record<string, string | undefined> = {}) => ({
    client_id: app.id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid',
    ...params,
  })

  /** A browser that logged in through the form, `secondsAgo` ago on the server's clock. */
  async function loggedIn(secondsAgo = 0): Promise<HttpClient> {
    offset -= secondsAgo * 1000
    const browser = await browserFor(server, ada.user)
    offset += secondsAgo * 1000
    return browser
  }

  /** Follows a redirect to the login page, checks it is shown, and logs in there; where the login sends the browser back to. */
  async function logInAt(browser: HttpClient, loginLocation: string, email = ada.user.email): Promise<string> {
    const page = await browser.get(loginLocation)
    assert.equal(page.status, 200, `the login page was not shown (${page.status})`)
    const html = await page.text()
    // The login form's own fields: a logged-in page has other forms with their own tokens.
    const fields = hiddenFields(html, '/login')
    const response = await browser.postForm('/login', { email, password: PASSWORD, _csrf: fields._csrf!, return_to: fields.return_to! })
    assert.equal(response.status, 303, await response.text())
    return response.headers.get('location')!
  }

  before(async () => {
    server = await startTestServer(dialect, {}, () => Date.now() + offset)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
    app = await seedClient(server.ctx, ada)
    client = { id: app.id, secret: app.secret, redirectUri: REDIRECT }
    // Every test below starts from a user who already approved the app.
    await codeFor(await loggedIn(), request())
  })
  after(() => server.stop())

  it('oidcc-prompt-none-not-logged-in: prompt=none without a session answers login_required, with state and iss, and shows no page', async () => {
    const back = redirectOf(await new HttpClient(server.url).get(authorizePath(request({ prompt: 'none', state: 's-1' }))))
    assert.equal(back.origin + back.pathname, REDIRECT)
    assert.equal(back.searchParams.get('error'), 'login_required')
    assert.equal(back.searchParams.get('state'), 's-1')
    assert.equal(back.searchParams.get('iss'), server.ctx.config.issuer)
  })

  it('oidcc-prompt-none-logged-in: prompt=none with a session and consent answers with a code at once', async () => {
    const back = redirectOf(await (await loggedIn()).get(authorizePath(request({ prompt: 'none', state: 's-2' }))))
    assert.ok(back.searchParams.get('code'))
    assert.equal(back.searchParams.get('state'), 's-2')
  })

  it('prompt=none answers consent_required when the app was never approved, and interaction_required for a user with no team', async () => {
    const other = await seedClient(server.ctx, ada)
    const consent = redirectOf(await (await loggedIn()).get(authorizePath({ ...request({ prompt: 'none' }), client_id: other.id })))
    assert.equal(consent.searchParams.get('error'), 'consent_required')
    const loner = await seedUser(server.ctx.db, 'loner@example.com')
    const interaction = redirectOf(await (await browserFor(server, loner.user)).get(authorizePath(request({ prompt: 'none' }))))
    assert.equal(interaction.searchParams.get('error'), 'interaction_required')
  })

  it('refuses prompt=none with another prompt value, and prompt values it does not know (invalid_request)', async () => {
    const browser = await loggedIn()
    for (const prompt of ['none login', 'consent none', 'sometimes']) {
      assert.equal(redirectOf(await browser.get(authorizePath(request({ prompt })))).searchParams.get('error'), 'invalid_request', prompt)
    }
  })

  it('oidcc-prompt-login: prompt=login shows the login page to a logged-in user, and the ID token tells of the new login', async () => {
    const browser = await loggedIn(120)
    const first = await browser.get(authorizePath(request({ prompt: 'login', nonce: 'n-login' })))
    assert.equal(first.status, 303)
    const location = first.headers.get('location')!
    assert.match(location, /^\/login\?/)
    const back = await logInAt(browser, location)
    const code = redirectOf(await browser.get(back)).searchParams.get('code')
    assert.ok(code, 'after logging in again the request goes on, without a second login')
    const claims = await verifyIdToken(server, (await exchangeCode(server, client, code)).id_token, app.id)
    assert.ok(server.ctx.clock() / 1000 - Number(claims.auth_time) < 60, 'auth_time is the new login')
    assert.equal(claims.nonce, 'n-login')
  })

  it('oidcc-max-age-1: a login older than max_age must be repeated, and auth_time is then within max_age', async () => {
    const browser = await loggedIn(5)
    const first = await browser.get(authorizePath(request({ max_age: '1' })))
    assert.equal(first.status, 303)
    const back = await logInAt(browser, first.headers.get('location')!)
    const code = redirectOf(await browser.get(back)).searchParams.get('code')!
    const claims = await verifyIdToken(server, (await exchangeCode(server, client, code)).id_token, app.id)
    assert.ok(server.ctx.clock() / 1000 - Number(claims.auth_time) <= 2)
  })

  it('oidcc-max-age-10000: a login within max_age is enough, and auth_time is in the ID token', async () => {
    const browser = await loggedIn(60)
    const code = redirectOf(await browser.get(authorizePath(request({ max_age: '10000' })))).searchParams.get('code')!
    const claims = await verifyIdToken(server, (await exchangeCode(server, client, code)).id_token, app.id)
    const session = await server.ctx.db.kysely.selectFrom('sessions').select('authenticated_at').where('sid', '=', String(claims.sid)).executeTakeFirstOrThrow()
    assert.equal(claims.auth_time, Math.floor(session.authenticated_at / 1000))
  })

  it('max_age=0 shows the login page even to a user who just logged in; max_age that is not a number is refused', async () => {
    const browser = await loggedIn()
    const first = await browser.get(authorizePath(request({ max_age: '0' })))
    assert.equal(first.status, 303)
    const back = await logInAt(browser, first.headers.get('location')!)
    assert.ok(redirectOf(await browser.get(back)).searchParams.get('code'))
    assert.equal(redirectOf(await browser.get(authorizePath(request({ max_age: 'soon' })))).searchParams.get('error'), 'invalid_request')
  })

  it('a forced login cannot be skipped by posting the consent form of an older login', async () => {
    const other = await seedClient(server.ctx, ada)
    const browser = await loggedIn(120)
    const page = await browser.get(authorizePath({ ...request(), client_id: other.id }))
    const fields = hiddenFields(await page.text(), '/oauth/authorize')
    const posted = await browser.postForm('/oauth/authorize', { ...fields, prompt: 'login', decision: 'approve' })
    // The decision answers the request shown, which asked for no login: one that adds prompt=login is refused outright.
    assert.equal(posted.status, 400)
    assert.equal(posted.headers.get('location'), null)
  })

  it('logging in again keeps the session and its public id (sid), with a new secret id', async () => {
    const browser = await loggedIn(120)
    const before = [...browser.cookies.values()].join()
    const first = await browser.get(authorizePath(request({ prompt: 'login' })))
    await logInAt(browser, first.headers.get('location')!)
    assert.notEqual([...browser.cookies.values()].join(), before, 'the session id changes at login')
    const rows = await server.ctx.db.kysely
      .selectFrom('sessions')
      .select(['sid', 'authenticated_at'])
      .where('user_id', '=', ada.user.id)
      .orderBy('authenticated_at', 'desc')
      .execute()
    assert.ok(server.ctx.clock() - rows[0]!.authenticated_at < 60_000)
  })

  it('oidcc-login-hint: login_hint fills in the e-mail field of the login page', async () => {
    const browser = new HttpClient(server.url)
    const first = await browser.get(authorizePath(request({ login_hint: 'ada@example.com' })))
    assert.equal(first.status, 303)
    const html = await (await browser.get(first.headers.get('location')!)).text()
    assert.match(html, /<input id="email" name="email" type="email"[^>]* value="ada@example\.com"/)
  })

  it('oidcc-id-token-hint: with prompt=none, an id_token_hint for the user signed in gets a code; one for someone else, or not ours, login_required', async () => {
    const browser = await loggedIn()
    const idToken = String((await exchangeCode(server, client, await codeFor(browser, request()))).id_token)
    assert.ok(redirectOf(await browser.get(authorizePath(request({ prompt: 'none', id_token_hint: idToken })))).searchParams.get('code'))
    const grace = await seedUser(server.ctx.db, 'grace@example.com', { team: 'Engines', role: 'member' })
    const graceBrowser = await browserFor(server, grace.user)
    await codeFor(graceBrowser, request())
    for (const hint of [idToken, `${idToken.slice(0, -4)}AAAA`, 'not-a-jwt']) {
      assert.equal(
        redirectOf(await graceBrowser.get(authorizePath(request({ prompt: 'none', id_token_hint: hint })))).searchParams.get('error'),
        'login_required',
      )
    }
  })

  it('oidcc-ui-locales, oidcc-claims-locales, oidcc-ensure-request-with-acr-values-succeeds, oidcc-display-page, oidcc-display-popup, oidcc-claims-essential, oidcc-ensure-request-with-unknown-parameter-succeeds: accepted, and a code comes back', async () => {
    const browser = await loggedIn()
    for (const extra of [
      { ui_locales: 'se' },
      { claims_locales: 'se' },
      { acr_values: '1 2' },
      { display: 'page' },
      { display: 'popup' },
      { claims: JSON.stringify({ userinfo: { name: { essential: true } } }) },
      { extra: 'foobar', another_unknown: '1' },
    ]) {
      assert.ok(redirectOf(await browser.get(authorizePath(request(extra)))).searchParams.get('code'), JSON.stringify(extra))
    }
  })

  it('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported, oidcc-ensure-request-object-with-redirect-uri: request and request_uri are refused as unsupported (Core §6), with state', async () => {
    const browser = await loggedIn()
    const requestObject = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ redirect_uri: REDIRECT, state: 'x' })).toString('base64url')}.`
    const refused = redirectOf(await browser.get(authorizePath(request({ request: requestObject, state: 's-r' }))))
    assert.equal(refused.searchParams.get('error'), 'request_not_supported')
    assert.equal(refused.searchParams.get('state'), 's-r')
    const byUri = redirectOf(await browser.get(authorizePath(request({ request_uri: 'https://rp.example/request.jwt' }))))
    assert.equal(byUri.searchParams.get('error'), 'request_uri_not_supported')
  })

  it('oidcc-response-type-missing: without response_type the client is told invalid_request', async () => {
    const back = redirectOf(await (await loggedIn()).get(authorizePath(request({ response_type: undefined }))))
    assert.equal(back.searchParams.get('error'), 'invalid_request')
  })

  it('oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri gets an error page, never a redirect', async () => {
    const response = await (await loggedIn()).get(authorizePath(request({ redirect_uri: 'https://attacker.example/cb' })))
    assert.equal(response.status, 400)
    assert.equal(response.headers.get('location'), null)
  })

  it('oidcc-ensure-redirect-uri-in-authorization-request: an OpenID request without redirect_uri gets an error page, never a redirect, while a plain OAuth one still goes to the single registered URL', async () => {
    const browser = await loggedIn()
    for (const scope of ['openid', 'read openid email']) {
      const response = await browser.get(authorizePath(request({ redirect_uri: undefined, scope, state: 's-r' })))
      assert.equal(response.status, 400, scope)
      assert.equal(response.headers.get('location'), null, scope)
      assert.match(await response.text(), /no redirect_uri/)
    }
    const plain = await authorize(browser, request({ redirect_uri: undefined, scope: 'read', state: 's-p' }))
    assert.equal(plain.origin + plain.pathname, REDIRECT)
    assert.ok(plain.searchParams.get('code'))
  })

  /** POSTs the authorization request as a form (Core §3.1.2.1) and checks it is answered as the same request by GET. */
  async function postRequest(browser: HttpClient, params: Record<string, string>): Promise<string> {
    const response = await browser.postForm('/oauth/authorize', params)
    assert.equal(response.status, 303)
    const location = response.headers.get('location')!
    const sent = new URL(location, server.url)
    assert.equal(sent.pathname, '/oauth/authorize')
    assert.deepEqual(Object.fromEntries(sent.searchParams), params)
    return location
  }

  it('oidcc-ensure-post-request-succeeds: an authorization request sent by POST gets a code like the GET: at once for a logged-in user, after the login page otherwise, after the consent page for an app not yet approved', async () => {
    const browser = await loggedIn()
    const code = redirectOf(await browser.get(await postRequest(browser, request({ state: 'post-1', nonce: 'n-post' })))).searchParams.get('code')
    assert.ok(code)
    assert.equal((await verifyIdToken(server, (await exchangeCode(server, client, code)).id_token, app.id)).nonce, 'n-post')

    const none = redirectOf(await browser.get(await postRequest(browser, request({ prompt: 'none', state: 'post-2' }))))
    assert.ok(none.searchParams.get('code'), 'prompt=none by POST with a session gets a code')

    const anonymous = new HttpClient(server.url)
    const toLogin = await anonymous.get(await postRequest(anonymous, request({ state: 'post-3' })))
    assert.equal(toLogin.status, 303)
    const back = await logInAt(anonymous, toLogin.headers.get('location')!)
    const signedIn = redirectOf(await anonymous.get(back))
    assert.ok(signedIn.searchParams.get('code'))
    assert.equal(signedIn.searchParams.get('state'), 'post-3')

    const other = await seedClient(server.ctx, ada)
    const consent = await browser.get(await postRequest(browser, { ...request({ state: 'post-4' }), client_id: other.id }))
    assert.equal(consent.status, 200)
    const approved = redirectOf(await browser.postForm('/oauth/authorize', { ...consentFields(await consent.text()), decision: 'approve' }))
    assert.ok(approved.searchParams.get('code'), 'the consent decision, posted to the same endpoint, still makes a code')
  })

  it("a POST with any field of the consent form is a consent decision, never a request: without the form's CSRF token and request id, refused with no code", async () => {
    const other = await seedClient(server.ctx, ada)
    const browser = await loggedIn()
    for (const field of ['decision', 'request_id', 'team_id', '_csrf']) {
      const response = await browser.postForm('/oauth/authorize', { ...request({ state: 'forged' }), client_id: other.id, [field]: 'approve' })
      assert.ok([400, 403].includes(response.status), `${field}: ${response.status}`)
      assert.equal(response.headers.get('location'), null, field)
    }
  })

  it('oidcc-ensure-request-with-valid-pkce-succeeds: an OpenID request with S256 PKCE', async () => {
    const { verifier, challenge } = pkcePair()
    const code = await codeFor(await loggedIn(), request({ code_challenge: challenge, code_challenge_method: 'S256' }))
    const body = await redeemCode(server, app, code, { code_verifier: verifier })
    await verifyIdToken(server, body.id_token, app.id)
  })

  it('response_mode=form_post answers with a form that posts itself to the redirect URI, under the CSP and without inline script; errors too', async () => {
    const browser = await loggedIn()
    const response = await browser.get(authorizePath(request({ response_mode: 'form_post', state: 's-f' })))
    assert.equal(response.status, 200)
    const csp = response.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'self'/)
    assert.doesNotMatch(csp, /unsafe-inline/)
    const html = await response.text()
    assert.match(html, new RegExp(`<form method="post" action="${REDIRECT.replace(/[/.]/g, '\\$&')}" data-auto-submit>`))
    assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]+<\/script>/, 'no inline script')
    assert.match(html, /<script src="\/assets\/portal\.js" defer><\/script>/)
    const fields = hiddenFields(html, REDIRECT)
    assert.ok(fields.code)
    assert.equal(fields.state, 's-f')
    assert.equal(fields.iss, server.ctx.config.issuer)

    const denied = await new HttpClient(server.url).get(authorizePath(request({ response_mode: 'form_post', prompt: 'none', state: 's-e' })))
    const errorFields = hiddenFields(await denied.text(), REDIRECT)
    assert.equal(errorFields.error, 'login_required')
    assert.equal(errorFields.state, 's-e')
    assert.equal(redirectOf(await browser.get(authorizePath(request({ response_mode: 'fragment' })))).searchParams.get('error'), 'invalid_request')
  })

  it('a first-party client marked to skip consent signs the user in without the consent page, and still shows it for prompt=consent', async () => {
    const ours = await seedClient(server.ctx, ada, { isFirstParty: true, skipConsent: true })
    const browser = await loggedIn()
    const params = { ...request(), client_id: ours.id }
    assert.ok(redirectOf(await browser.get(authorizePath(params))).searchParams.get('code'))
    const consent = await server.ctx.db.kysely.selectFrom('consents').select('client_id').where('client_id', '=', ours.id).executeTakeFirst()
    assert.ok(consent, 'recorded, so it appears on Team apps and can be revoked')
    assert.equal((await browser.get(authorizePath({ ...params, prompt: 'consent' }))).status, 200)
  })

  it('a client that is not first party, or has no secret, cannot be marked to skip consent', async () => {
    await assert.rejects(seedClient(server.ctx, ada, { skipConsent: true }), /skip_consent_first_party|first-party/)
    await assert.rejects(seedClient(server.ctx, ada, { isFirstParty: true, isConfidential: false, skipConsent: true }), /first-party/)
    const denied = await authorize(await loggedIn(), request({ prompt: 'consent' }), 'deny')
    assert.equal(denied.searchParams.get('error'), 'access_denied')
  })
})
