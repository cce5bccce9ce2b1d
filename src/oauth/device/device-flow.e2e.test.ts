import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as oidc from 'openid-client'
import type { Browser } from 'playwright-core'
import { browserSkipReason, launchChromium, logIn, withPage } from '../../testing/browser.js'
import { PASSWORD, seedClient, seedUser, type SeededClient, type SeededUser } from '../../testing/fixtures.js'
import { meStatus } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const EMAIL = 'ada@example.com'
const skip = browserSkipReason()

describe(
  'a command-line tool signs in with the device flow: openid-client polls while the user approves in Chromium',
  { skip: skip ?? false, timeout: 240_000 },
  () => {
    let browser: Browser
    let server: TestServer
    let ada: SeededUser
    let cli: SeededClient
    let config: oidc.Configuration

    before(
      async () => {
        ;[browser, server] = await Promise.all([launchChromium(), startTestServer('sqlite')])
        ada = await seedUser(server.ctx.db, EMAIL, { name: 'Ada Lovelace', team: 'Engines' })
        await seedUser(server.ctx.db, EMAIL.replace('ada', 'bob'), { team: 'Looms' })
        cli = await seedClient(server.ctx, ada, { name: 'Engine CLI', isConfidential: false })
        // A public client: it authenticates by client_id alone. The test server speaks plain http on a loopback port.
        config = await oidc.discovery(new URL(server.url), cli.id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] })
      },
      { timeout: 90_000 },
    )
    after(async () => {
      await browser?.close()
      await server?.stop()
    })

    it('the user types the code in lower case on /device, logs in, confirms it is the code on the device, and the tool gets tokens', (t) =>
      withPage(browser, t, async (page) => {
        const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid read' })
        assert.equal(started.verification_uri, `${server.url}/device`)
        const polled = oidc.pollDeviceAuthorizationGrant(config, started)

        await page.goto(started.verification_uri)
        await page.getByLabel('Code').fill(started.user_code.toLowerCase().replace('-', ''))
        await page.getByRole('button', { name: 'Continue' }).click()
        await page.waitForURL((url) => url.pathname === '/login')
        await page.getByLabel('E-mail address').fill(EMAIL)
        await page.getByLabel('Password').fill(PASSWORD)
        await page.getByRole('button', { name: 'Log in' }).click()
        await page.getByText('Is this the code on your device?').waitFor()
        assert.equal(await page.getByTestId('user-code').textContent(), started.user_code)
        assert.equal(await page.getByTestId('client-name').textContent(), 'Engine CLI')
        assert.equal(await page.getByTestId('consent-team').textContent(), 'Engines')
        await page.getByRole('button', { name: 'Approve' }).click()
        await page.getByTestId('device-approved').waitFor()

        const tokens = await polled
        // openid-client has checked the ID token's signature, iss, aud, exp and iat.
        const claims = tokens.claims()!
        assert.equal(claims.sub, String(ada.user.id))
        assert.equal(claims.aud, cli.id)
        assert.equal(typeof claims.auth_time, 'number')
        assert.equal(tokens.scope, 'openid read')
        assert.ok(tokens.refresh_token)
        assert.equal(await meStatus(server, tokens.access_token), 200)

        const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token)
        assert.equal(await meStatus(server, refreshed.access_token), 200)
      }))

    it('the verification_uri_complete link fills the code in, yet the user still decides; a denial reaches the tool as access_denied', (t) =>
      withPage(browser, t, async (page) => {
        await logIn(page, server.url, EMAIL.replace('ada', 'bob'), PASSWORD)
        const started = await oidc.initiateDeviceAuthorization(config, { scope: 'read' })
        const polled = oidc.pollDeviceAuthorizationGrant(config, started)
        await page.goto(started.verification_uri_complete!)
        await page.getByText('Is this the code on your device?').waitFor()
        assert.equal(await page.getByTestId('consent-team').textContent(), 'Looms')
        await page.getByRole('button', { name: 'Deny' }).click()
        await page.getByTestId('device-denied').waitFor()
        await assert.rejects(polled, (err: unknown) => {
          assert.ok(err instanceof oidc.ResponseBodyError, String(err))
          assert.equal(err.error, 'access_denied')
          return true
        })
      }))
  },
)
