import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import * as oidc from 'openid-client'
import type { Browser, Page } from 'playwright-core'
import { ACR } from '../accounts/assurance.js'
import { createTokenVerifier, InsufficientUserAuthenticationError, requireAuthentication } from '../resource-server/index.js'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../testing/browser.js'
import { PASSWORD, seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { postOAuth } from '../testing/oauth.js'
import type { TestServer } from '../testing/server.js'
import { enrolApp, oathtoolCode } from '../testing/totp.js'

const skip = browserSkipReason()
const STEP_MS = 30_000

async function startRelyingParty(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(
      `<!doctype html><title>App</title><h1>${new URL(req.url ?? '/', 'http://127.0.0.1').pathname === '/callback' ? 'Signed in to the app' : 'App'}</h1>`,
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe('two factors as relying parties and resource servers see them, and a team that requires them', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let rp: Awaited<ReturnType<typeof startRelyingParty>>
  let ada: SeededUser
  let bob: SeededUser
  let app: SeededClient
  let service: SeededClient
  let config: oidc.Configuration
  let adaSecret = ''
  let offset = 0
  const clock = () => Date.now() + offset
  /** The next authenticator-app code: the clock moves one step on, so no code is used twice. */
  const nextCode = (secret: string) => {
    offset += STEP_MS
    return oathtoolCode(secret, clock())
  }

  before(
    async () => {
      ;[[browser, server], rp] = await Promise.all([startBrowserAndServer({}, clock), startRelyingParty()])
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
      bob = await seedUser(server.ctx.db, 'bob@example.com', { name: 'Bob', team: 'Engines', role: 'member' })
      app = await seedClient(server.ctx, ada, { redirectUris: [`${rp.url}/callback`] })
      service = await seedClient(server.ctx, ada, { isFirstParty: true })
      config = await oidc.discovery(new URL(server.url), app.id, app.secret, undefined, { execute: [oidc.allowInsecureRequests] })
    },
    { timeout: 90_000 },
  )
  after(async () => {
    await stopBrowserAndServer(browser, server)
    await rp?.close()
  })

  async function signIn(page: Page, params: Record<string, string>, during: (page: Page) => Promise<void> = async () => {}) {
    const verifier = oidc.randomPKCECodeVerifier()
    const nonce = oidc.randomNonce()
    const state = oidc.randomState()
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${rp.url}/callback`,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      ...params,
    })
    await page.goto(url.href)
    await during(page)
    const approve = page.getByRole('button', { name: 'Approve' })
    const done = page.getByRole('heading', { name: 'Signed in to the app' })
    await approve.or(done).waitFor()
    if (await approve.isVisible()) await approve.click()
    await done.waitFor()
    return oidc.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    })
  }

  async function enterCode(page: Page, code: string) {
    await page.waitForURL((url) => url.pathname === '/login/code')
    await page.getByLabel('Code').fill(code)
    await page.getByRole('button', { name: 'Continue' }).click()
  }

  it(
    'discovery lists the acr values; acr_values steps a password-only session up, and openid-client reads acr and amr; tokens, introspection and the kit follow',
    { timeout: 150_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        assert.deepEqual(config.serverMetadata().acr_values_supported, [ACR.password, ACR.mfa, ACR.phishingResistant])

        // Signed in before the app was added: a session with the password alone.
        await logIn(page, server.url, ada.user.email, PASSWORD)
        const secret = await enrolApp(server.ctx, ada.user)
        adaSecret = secret

        const plain = await signIn(page, {})
        assert.equal(plain.claims()!.acr, ACR.password)
        assert.deepEqual(plain.claims()!.amr, ['pwd'])

        const stepped = await signIn(page, { acr_values: ACR.mfa }, (p) => enterCode(p, nextCode(secret)))
        const claims = stepped.claims()!
        assert.equal(claims.acr, ACR.mfa)
        assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
        assert.equal(claims.sid, plain.claims()!.sid, 'the step-up keeps the session')
        assert.ok(claims.auth_time! >= plain.claims()!.auth_time!)

        // RFC 9068 §2.2.1: the JWT access token says the same; introspection returns it.
        const accessClaims = decodeJwt(stepped.access_token)
        assert.equal(accessClaims.acr, ACR.mfa)
        assert.deepEqual(accessClaims.amr, ['pwd', 'otp', 'mfa'])
        assert.equal(accessClaims.auth_time, claims.auth_time)
        const introspected = await postOAuth(server, '/oauth/introspect', { token: stepped.access_token, client_id: service.id, client_secret: service.secret })
        assert.equal(introspected.body.acr, ACR.mfa)
        assert.deepEqual(introspected.body.amr, ['pwd', 'otp', 'mfa'])

        // The kit: a route that demands two factors refuses the password-only token with RFC 9470's challenge.
        // The server's clock runs ahead of this process's by the steps skipped.
        const verifier = createTokenVerifier({
          issuer: server.url,
          clientId: service.id,
          clientSecret: service.secret,
          introspectionCacheMs: 0,
          clockToleranceSeconds: 3600,
        })
        const refused = await verifier.verify(plain.access_token, { acr: ACR.mfa }).catch((err: unknown) => err)
        assert.ok(refused instanceof InsufficientUserAuthenticationError)
        assert.equal(refused.status, 401)
        assert.match(refused.challenge, /error="insufficient_user_authentication"/)
        assert.match(refused.challenge, new RegExp(`acr_values="${ACR.mfa}"`))
        const accepted = await verifier.verify(stepped.access_token, { acr: ACR.mfa })
        assert.equal(accepted.authentication?.acr, ACR.mfa)
        const tooOld = (() => {
          try {
            requireAuthentication(accepted, { maxAgeSeconds: 60 }, { nowSeconds: accepted.authentication!.authTime + 61 })
          } catch (err) {
            return err
          }
        })()
        assert.ok(tooOld instanceof InsufficientUserAuthenticationError)
        assert.match(tooOld.challenge, /max_age="60"/)

        // The claims parameter's essential acr is met by the session now; prompt=login asks for both steps again.
        const essential = await signIn(page, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.mfa] } } }) })
        assert.equal(essential.claims()!.acr, ACR.mfa)
        const again = await signIn(page, { prompt: 'login', acr_values: ACR.mfa }, async (p) => {
          await p.waitForURL((url) => url.pathname === '/login')
          await p.getByLabel('Password').fill(PASSWORD)
          await p.getByRole('button', { name: 'Log in' }).click()
          await enterCode(p, nextCode(secret))
        })
        assert.equal(again.claims()!.acr, ACR.mfa)
        assert.ok(again.claims()!.auth_time! > claims.auth_time!)
      }),
  )

  it(
    'a team that requires two factors sends a member without one to add it, and a password-only session steps up to create a token',
    { timeout: 150_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        await logIn(page, server.url, ada.user.email, PASSWORD)
        await enterCode(page, nextCode(adaSecret))
        await page.waitForURL((url) => url.pathname === '/')
        await page.goto(`${server.url}/team/settings`)
        await page.getByLabel('Members must use two-factor sign-in').check()
        await Promise.all([page.waitForURL((url) => url.searchParams.get('done') === 'saved'), page.getByRole('button', { name: 'Save' }).click()])
        await page.goto(`${server.url}/team/members`)
        const row = (name: string) => page.getByTestId('member-row').filter({ hasText: name }).getByTestId('member-two-factor')
        assert.equal(await row('Ada').textContent(), 'On')
        assert.equal(await row('Bob').textContent(), 'Off')

        await page.context().clearCookies()
        await logIn(page, server.url, bob.user.email, PASSWORD)
        await page.goto(`${server.url}/settings/tokens/new`)
        await page.waitForURL((url) => url.pathname === '/account/security')
        assert.match((await page.getByTestId('team-requires-two-factor').textContent()) ?? '', /Engines.*requires two-factor sign-in/)
        await page.getByRole('button', { name: 'Add an authenticator app' }).click()
        const secret = (await page.getByTestId('totp-secret').textContent())!.trim()
        await page.getByLabel('The 6-digit code the app shows').fill(nextCode(secret))
        await Promise.all([
          page.waitForURL((url) => url.pathname.startsWith('/account/security/recovery-codes/')),
          page.getByRole('button', { name: 'Turn on' }).click(),
        ])

        // The team opens now; the session was signed in with the password alone, so creating a token asks for a code first.
        await page.goto(`${server.url}/settings/tokens/new`)
        await page.getByLabel('Name', { exact: true }).fill('CI')
        await page.getByRole('button', { name: 'Create token' }).click()
        await enterCode(page, nextCode(secret))
        await page.waitForURL((url) => url.pathname === '/settings/tokens/new')
        await page.getByLabel('Name', { exact: true }).fill('CI')
        await Promise.all([
          page.waitForURL((url) => url.pathname.startsWith('/settings/tokens/created/')),
          page.getByRole('button', { name: 'Create token' }).click(),
        ])
        assert.ok(await page.getByTestId('new-token').isVisible())
      }),
  )
})
