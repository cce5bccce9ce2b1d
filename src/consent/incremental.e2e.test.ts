import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeJwt } from 'jose'
import type { Browser, Page } from 'playwright-core'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../testing/browser.js'
import { PASSWORD, seedClient, seedUser, type SeededClient } from '../testing/fixtures.js'
import { redeemCode, refreshExchange, type IssuedTokens } from '../testing/oauth.js'
import type { TestServer } from '../testing/server.js'

const skip = browserSkipReason()

describe('a client coming back for more scopes (incremental consent), in a browser', { skip: skip ?? false, timeout: 180_000 }, () => {
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
      app = await seedClient(server.ctx, olive, { name: 'Reports', redirectUris: [redirect] })
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  /** Sends the browser to the authorization endpoint; the app's callback it lands on, or undefined when a Gatehouse page is shown. */
  async function authorize(page: Page, scope: string): Promise<URL | undefined> {
    const query = new URLSearchParams({ client_id: app.id, redirect_uri: redirect, response_type: 'code', scope, state: 's1' })
    await page.goto(`${server.url}/oauth/authorize?${query}`)
    const landed = new URL(page.url())
    return landed.pathname === '/app/callback' ? landed : undefined
  }

  /** The tokens for the code the browser landed with. */
  function exchange(landed: URL | undefined): Promise<IssuedTokens> {
    const code = landed?.searchParams.get('code')
    assert.ok(code, `no code in ${landed?.href}`)
    return redeemCode(server, app, code, { redirect_uri: redirect })
  }

  async function listed(page: Page, testId: string): Promise<string[]> {
    return page.getByTestId(testId).evaluateAll((items) => items.map((item) => item.getAttribute('data-scope') ?? ''))
  }

  async function decide(page: Page, button: 'Approve' | 'Deny'): Promise<URL> {
    await page.getByRole('button', { name: button }).click()
    await page.waitForURL((url) => url.pathname === '/app/callback')
    return new URL(page.url())
  }

  it(
    'asks only for the new scope, lists the approved one apart, keeps the approval on a denial, and remembers the union on approval',
    { timeout: 120_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        await logIn(page, server.url, 'olive@example.com', PASSWORD)

        assert.equal(await authorize(page, 'read'), undefined, 'first time: the consent page')
        assert.deepEqual(await listed(page, 'consent-scope'), ['read'])
        assert.equal(await page.getByTestId('consent-approved').count(), 0)
        const first = await exchange(await decide(page, 'Approve'))
        assert.deepEqual(decodeJwt(first.access_token).scopes, ['read'])

        assert.equal(await authorize(page, 'read write'), undefined, 'more scopes: the consent page again')
        assert.deepEqual(await listed(page, 'consent-scope'), ['write'])
        assert.deepEqual(await listed(page, 'consent-scope-approved'), ['read'])
        const denied = await decide(page, 'Deny')
        assert.equal(denied.searchParams.get('error'), 'access_denied')

        // The denial left the approval of read as it was: read alone needs no page, and write is still new.
        const again = await authorize(page, 'read')
        assert.ok(again?.searchParams.get('code'), 'read is still approved')
        assert.equal(await authorize(page, 'read write'), undefined)
        assert.deepEqual(await listed(page, 'consent-scope'), ['write'])
        const approved = await exchange(await decide(page, 'Approve'))
        assert.deepEqual(decodeJwt(approved.access_token).scopes, ['read', 'write'])

        // The approval on file is now the union: neither request shows the page, and each token carries what was asked for.
        const both = await authorize(page, 'write read')
        assert.deepEqual(decodeJwt((await exchange(both)).access_token).scopes, ['read', 'write'])
        const readOnly = await authorize(page, 'read')
        assert.deepEqual(decodeJwt((await exchange(readOnly)).access_token).scopes, ['read'])

        // The first grant's refresh token keeps that grant's scopes.
        const refreshed = await refreshExchange(server, app, first.refresh_token)
        assert.equal(refreshed.response.status, 200)
        assert.deepEqual(decodeJwt(String(refreshed.body.access_token)).scopes, ['read'])
      }),
  )
})
