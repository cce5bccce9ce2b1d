import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import * as oidc from 'openid-client'
import type { Browser, Page } from 'playwright-core'
import { browserSkipReason, launchChromium, withPage } from '../testing/browser.js'
import { PASSWORD, seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const EMAIL = 'ada@example.com'
const skip = browserSkipReason()

/** The relying party's own pages: where Gatehouse sends the browser back after signing in and after logging out. */
async function startRelyingParty(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const heading = path === '/callback' ? 'Signed in to the app' : path === '/bye' ? 'Logged out of the app' : 'Not found'
    res.writeHead(heading === 'Not found' ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><title>App</title><h1>${heading}</h1>`)
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

interface Started {
  url: URL
  verifier: string
  nonce: string
  state: string
}

describe('openid-client (a certified relying party) signs a user in through Chromium', { skip: skip ?? false, timeout: 180_000 }, () => {
  let browser: Browser
  let server: TestServer
  let rp: Awaited<ReturnType<typeof startRelyingParty>>
  let ada: SeededUser
  let app: SeededClient
  let config: oidc.Configuration

  before(
    async () => {
      ;[browser, server, rp] = await Promise.all([launchChromium(), startTestServer('sqlite'), startRelyingParty()])
      ada = await seedUser(server.ctx.db, EMAIL, { name: 'Ada Lovelace', team: 'Engines' })
      app = await seedClient(server.ctx, ada, { redirectUris: [`${rp.url}/callback`], postLogoutRedirectUris: [`${rp.url}/bye`] })
      // The test server speaks plain http on a loopback port; openid-client refuses that unless told.
      config = await oidc.discovery(new URL(server.url), app.id, app.secret, undefined, { execute: [oidc.allowInsecureRequests] })
    },
    { timeout: 90_000 },
  )
  after(async () => {
    await browser?.close()
    await server?.stop()
    await rp?.close()
  })

  async function startSignIn(): Promise<Started> {
    const verifier = oidc.randomPKCECodeVerifier()
    const nonce = oidc.randomNonce()
    const state = oidc.randomState()
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${rp.url}/callback`,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    })
    return { url, verifier, nonce, state }
  }

  async function logInOnPage(page: Page): Promise<void> {
    await page.getByLabel('E-mail address').fill(EMAIL)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Log in' }).click()
  }

  /** The callback URL the browser came back to, handed to openid-client as an app's callback route would. */
  async function callback(page: Page, started: Started) {
    await page.getByRole('heading', { name: 'Signed in to the app' }).waitFor()
    return oidc.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: started.verifier,
      expectedNonce: started.nonce,
      expectedState: started.state,
      idTokenExpected: true,
    })
  }

  it('oidcc-server, oidcc-userinfo-get, oidcc-refresh-token, oidcc-rp-initiated-logout: logs in, approves, validates the ID token, reads userinfo, refreshes, logs out to the registered URI, and the next sign-in asks for a login', (t) =>
    withPage(browser, t, async (page) => {
      assert.equal(config.serverMetadata().issuer, server.url)

      const first = await startSignIn()
      await page.goto(first.url.href)
      await page.waitForURL((url) => url.pathname === '/login')
      await logInOnPage(page)
      await page.getByRole('button', { name: 'Approve' }).click()
      const tokens = await callback(page, first)

      // openid-client has checked the signature against the JWKS, iss, aud, exp, iat, nonce and the state.
      const claims = tokens.claims()!
      assert.equal(claims.sub, String(ada.user.id))
      assert.equal(claims.aud, app.id)
      assert.equal(claims.nonce, first.nonce)
      assert.equal(claims.email, EMAIL)
      assert.equal(claims.name, 'Ada Lovelace')
      assert.equal(typeof claims.sid, 'string')
      assert.ok(tokens.refresh_token)

      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)
      assert.equal(userinfo.email, EMAIL)
      assert.equal(userinfo.name, 'Ada Lovelace')
      assert.equal(userinfo.email_verified, claims.email_verified)

      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token)
      assert.notEqual(refreshed.access_token, tokens.access_token)
      // OpenID Connect Core §12.2: the grant's scope has openid, so the refresh returns a new ID token for the same user, without the nonce.
      assert.ok(refreshed.id_token, 'the refresh returns an ID token')
      const refreshedClaims = refreshed.claims()!
      assert.equal(refreshedClaims.sub, claims.sub)
      assert.equal(refreshedClaims.sid, claims.sid)
      assert.equal(refreshedClaims.nonce, undefined)
      assert.equal((await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub)).sub, claims.sub)

      const logoutState = oidc.randomState()
      const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${rp.url}/bye`, state: logoutState })
      await page.goto(logout.href)
      await page.getByRole('heading', { name: 'Logged out of the app' }).waitFor()
      const back = new URL(page.url())
      assert.equal(`${back.origin}${back.pathname}`, `${rp.url}/bye`)
      assert.equal(back.searchParams.get('state'), logoutState)

      // The Gatehouse session is over: the next sign-in shows the login page, and logging in signs the user in anew.
      const second = await startSignIn()
      await page.goto(second.url.href)
      await page.waitForURL((url) => url.pathname === '/login')
      await logInOnPage(page)
      const again = await callback(page, second)
      assert.equal(again.claims()!.sub, claims.sub)
      assert.notEqual(again.claims()!.sid, claims.sid)
    }))
})
