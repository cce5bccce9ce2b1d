import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, seedClient, seedUser, type SeededClient } from '../../testing/fixtures.js'
import { pkcePair } from '../../testing/oauth.js'
import type { TestServer } from '../../testing/server.js'

const skip = browserSkipReason()

describe("the consent-page switch on a first-party client's page, in a browser", { skip: skip ?? false, timeout: 180_000 }, () => {
  let browser: Browser
  let server: TestServer
  let app: SeededClient
  /** The app's callback, on loopback (plain http is allowed there): where the browser lands is all the test reads. */
  let redirect: string

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      const olive = await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive', team: 'Acme' })
      redirect = `${server.url}/app/callback`
      app = await seedClient(server.ctx, olive, { name: 'Our web app', isFirstParty: true, redirectUris: [redirect] })
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  /** Starts a sign-in to the app; where the browser ends up: the app's callback, or a Gatehouse page. */
  async function signIn(page: Page): Promise<URL> {
    const query = new URLSearchParams({
      client_id: app.id,
      redirect_uri: redirect,
      response_type: 'code',
      scope: 'openid',
      state: 's1',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    })
    await page.goto(`${server.url}/oauth/authorize?${query}`)
    return new URL(page.url())
  }

  async function flip(page: Page, button: string, banner: RegExp): Promise<void> {
    await page.goto(`${server.url}/settings/clients/${app.id}`)
    await page.getByRole('button', { name: button }).click()
    await page.getByTestId('success-banner').filter({ hasText: banner }).waitFor()
  }

  it('turning it on makes the next sign-in skip the consent page; turning it off shows the page again', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, 'olive@example.com', PASSWORD)

      let landed = await signIn(page)
      assert.equal(landed.pathname, '/oauth/authorize')
      await page.getByRole('heading', { name: 'Our web app wants to access your account' }).waitFor()

      await flip(page, 'Sign users in without the consent page', /no longer asked/)
      landed = await signIn(page)
      assert.equal(`${landed.origin}${landed.pathname}`, redirect, 'straight back to the app')
      assert.ok(landed.searchParams.get('code'))
      assert.equal(landed.searchParams.get('state'), 's1')

      await flip(page, 'Ask users to approve this app again', /asked to approve/)
      landed = await signIn(page)
      assert.equal(landed.pathname, '/oauth/authorize')
      await page.getByRole('heading', { name: 'Our web app wants to access your account' }).waitFor()
    }),
  )
})
