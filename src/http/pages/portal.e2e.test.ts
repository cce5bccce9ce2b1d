import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { createUser } from '../../accounts/users.js'
import { browserSkipReason, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import type { TestServer } from '../../testing/server.js'

const PASSWORD = 'correct horse battery'
const EMAIL = 'ada@example.com'
const NAME = 'Ada Lovelace'
/** The integrator's callback: a host that does not exist, so the browser's visit to it is answered by the test. */
const REDIRECT = 'https://integrator.example/callback'
const skip = browserSkipReason()

async function logIn(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/login`)
  await page.getByLabel('E-mail address').fill(EMAIL)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('heading', { name: `Welcome, ${NAME}` }).waitFor()
}

/** Seeds 001 and 002: "via the dropdown menu under your user name". */
async function openFromMenu(page: Page, link: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Account' }).getByText(NAME, { exact: true }).click()
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: link, exact: true }).click()
}

/**
 * What went wrong in the page: scripts that threw, CSP violations, and
 * failed loads from the server (all but the favicon, which the portal does not have).
 */
function collectPageErrors(page: Page, origin: string): string[] {
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('response', (response) => {
    const url = new URL(response.url())
    if (url.origin === origin && response.status() >= 400 && url.pathname !== '/favicon.ico') errors.push(`${response.status()} ${url.pathname}`)
  })
  return errors
}

async function meStatus(server: TestServer, token: string): Promise<number> {
  const response = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${token}` } })
  await response.arrayBuffer()
  return response.status
}

describe('developer portal stories in a browser', { skip: skip ?? false, timeout: 180_000 }, () => {
  let browser: Browser
  let server: TestServer

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      await createUser(server.ctx.db, { email: EMAIL, name: NAME, password: PASSWORD, teamName: 'Analytical Engines' }, Date.now())
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it('registers an API client, reveals its secret, runs the OAuth flow, and revokes the app on Team apps (seeds 000, 001)', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const pageErrors = collectPageErrors(page, server.url)
      // The integrator's server: the browser is sent there with the code; the test answers in its place.
      const callbacks: URL[] = []
      await page.route('https://integrator.example/**', async (route) => {
        callbacks.push(new URL(route.request().url()))
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Integrator</title><h1>Back at the integrator</h1>' })
      })

      await logIn(page, server.url)
      await openFromMenu(page, 'API clients')
      await page.getByRole('heading', { name: 'API clients' }).waitFor()
      await page.getByRole('link', { name: 'Create an API client' }).click()

      await page.getByLabel('Name', { exact: true }).fill('Integrator Test App')
      await page.getByLabel('Redirect URL 1', { exact: true }).fill(REDIRECT)
      // Rows are added and removed in place when JavaScript runs.
      await page.getByRole('button', { name: 'Add another redirect URL' }).click()
      await page.getByLabel('Redirect URL 2', { exact: true }).fill('https://webhook.site/abc')
      await page.getByRole('button', { name: 'Add another redirect URL' }).click()
      await page.getByLabel('Redirect URL 3', { exact: true }).fill('https://integrator.example/other')
      await page.getByRole('button', { name: 'Remove redirect URL 2' }).click()
      assert.equal(await page.getByLabel('Redirect URL 2', { exact: true }).inputValue(), 'https://integrator.example/other', 'the rows are numbered again')
      await page.getByRole('button', { name: 'Create API client' }).click()

      // The new client's page, its secret shown at once (as a new personal access token is), not the list.
      await page.getByTestId('success-banner').waitFor()
      assert.equal(new URL(page.url()).pathname.startsWith('/settings/clients/'), true)
      const clientId = (await page.getByTestId('client-id').textContent())!.trim()
      assert.match(clientId, /^[0-9a-f-]{36}$/)
      const clientSecret = (await page.getByTestId('client-secret').textContent())!.trim()
      assert.ok(clientSecret.length >= 32)
      await page.getByTestId('shown-once').waitFor()

      // Leaving the page hides it; the list has the client, and revealing shows the same secret again.
      await openFromMenu(page, 'API clients')
      const row = page.getByTestId('client-row').filter({ hasText: 'Integrator Test App' })
      assert.equal((await row.getByTestId('client-id').getAttribute('title'))?.trim(), clientId)
      await row.getByRole('link', { name: 'Integrator Test App' }).click()
      assert.equal(await page.getByTestId('client-secret').count(), 0, 'the secret is hidden until revealed')
      await page.getByRole('button', { name: 'Reveal secret' }).click()
      assert.equal((await page.getByTestId('client-secret').textContent())!.trim(), clientSecret)

      // The integrator sends the user to the authorisation page (seed 000).
      const authorize = `${server.url}/oauth/authorize?client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=xyz123&response_type=code`
      await page.goto(authorize)
      assert.equal(await page.getByTestId('client-name').textContent(), 'Integrator Test App')
      await page.getByRole('button', { name: 'Approve' }).click()
      await page.getByRole('heading', { name: 'Back at the integrator' }).waitFor()
      const callback = callbacks.at(-1)!
      assert.equal(callback.origin + callback.pathname, REDIRECT)
      assert.equal(callback.searchParams.get('state'), 'xyz123')
      const code = callback.searchParams.get('code')
      assert.ok(code)

      // The integrator's server exchanges the code and calls the API.
      const exchanged = await fetch(new URL('/oauth/token', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, client_secret: clientSecret, code, redirect_uri: REDIRECT }),
      })
      assert.equal(exchanged.status, 200)
      const tokens = (await exchanged.json()) as { access_token: string }
      const me = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${tokens.access_token}` } })
      assert.equal(me.status, 200)
      assert.equal(((await me.json()) as { email: string }).email, EMAIL)

      // Seed 000: "Users may revoke access at any time by visiting the Team apps page".
      await page.goto(`${server.url}/`)
      await openFromMenu(page, 'Team apps')
      const app = page.getByTestId('team-app-row').filter({ hasText: 'Integrator Test App' })
      assert.match((await app.textContent()) ?? '', /Ada Lovelace/)
      await app.getByRole('link', { name: /^Revoke/ }).click()
      await page.getByRole('button', { name: 'Revoke access' }).click()
      await page.getByTestId('success-banner').waitFor()
      assert.equal(await page.getByTestId('team-app-row').count(), 0)
      assert.equal(await meStatus(server, tokens.access_token), 401)

      // "the user must go through the authorisation flow again".
      await page.goto(authorize)
      await page.getByRole('button', { name: 'Approve' }).waitFor()
      assert.deepEqual(pageErrors, [])
    }),
  )

  it('creates a personal access token, copies it, uses it, deletes it and sees the green banner (seed 002)', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page, context) => {
      const pageErrors = collectPageErrors(page, server.url)
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
      // A phone-sized screen: the pages must be usable there too.
      await page.setViewportSize({ width: 390, height: 844 })

      await logIn(page, server.url)
      await openFromMenu(page, 'Personal access tokens')
      await page.getByRole('link', { name: '+ Create token' }).click()
      await page.getByLabel('Name', { exact: true }).fill('Quarterly report script')
      assert.equal(await page.getByLabel('Expires after').inputValue(), '365')
      await page.getByLabel('Name', { exact: true }).press('Enter')

      await page.getByTestId('shown-once').waitFor()
      assert.match((await page.getByTestId('shown-once').textContent()) ?? '', /will not be shown again/)
      await page.getByRole('button', { name: 'Copy' }).click()
      await page.getByRole('button', { name: 'Copied' }).waitFor()
      const copied = await page.evaluate<string>('navigator.clipboard.readText()')
      assert.equal(copied, await page.getByTestId('new-token').inputValue())
      assert.match(copied, /^gatehouse_pat_[0-9A-Za-z]{49}$/)
      assert.equal(await meStatus(server, copied), 200)
      // API calls reach "last used" with the next usage flush, about a second later.
      await server.ctx.usage.flush()

      // Seed 002: "select the Saved tab … Click Delete beside the relevant token … Delete token … A green banner".
      await page.getByRole('link', { name: 'Saved', exact: true }).click()
      const row = page.getByTestId('token-row').filter({ hasText: 'Quarterly report script' })
      assert.doesNotMatch((await row.textContent()) ?? '', /Never/, 'the API call shows as the last use')
      assert.equal(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling on a phone')
      await row.getByRole('link', { name: /^Delete/ }).click()
      await page.getByRole('button', { name: 'Delete token' }).click()
      const banner = page.getByTestId('success-banner')
      await banner.waitFor()
      assert.equal((await banner.textContent())?.trim(), 'The token was deleted. It no longer works.')
      const background = await page.evaluate<string>(`getComputedStyle(document.querySelector('[data-testid="success-banner"]')).backgroundColor`)
      const [red, green, blue] = background.match(/\d+/g)!.map(Number)
      assert.ok(green! > red! && green! > blue!, 'the banner is green')
      assert.equal(await page.getByTestId('token-row').count(), 0)
      assert.equal(await meStatus(server, copied), 401)
      assert.deepEqual(pageErrors, [])
    }),
  )
})
