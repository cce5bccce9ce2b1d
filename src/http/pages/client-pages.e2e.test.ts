import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { browserSkipReason, logIn, scrollsSideways, startBrowserAndServer, stopBrowserAndServer, withPage, wordsBrokenMidWord } from '../../testing/browser.js'
import { PASSWORD, seedUser } from '../../testing/fixtures.js'
import type { TestServer } from '../../testing/server.js'

const run = promisify(execFile)
const skip = browserSkipReason()
const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]
/** The app's callback, on a host that does not exist: the browser's visit there is answered by the test. */
const REDIRECT = 'https://integrator.example/a/rather/long/path/to/the/oauth/callback/of/this/application'

describe('creating API clients and reading their pages, in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive Oyl-Popeye', team: 'Spinach Logistics' })
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  async function create(page: Page, name: string, kind: string): Promise<void> {
    await page.goto(`${server.url}/settings/clients/new`)
    assert.equal(await page.getByRole('button', { name: 'Remove redirect URL 1' }).isVisible(), false, 'no Remove beside the only URL')
    await page.getByLabel('Name', { exact: true }).fill(name)
    await page.getByLabel(kind).check()
    await page.getByLabel('Redirect URL 1', { exact: true }).fill(REDIRECT)
    await page.getByRole('button', { name: 'Create API client' }).click()
    await page.getByTestId('success-banner').waitFor()
  }

  for (const size of SIZES) {
    it(
      `lands on a new confidential client's page with its secret once, the URLs an integrator needs and a curl that works, at ${size.width}px`,
      { timeout: 120_000 },
      (t) =>
        withPage(browser, t, async (page) => {
          await page.setViewportSize(size)
          await logIn(page, server.url, 'olive@example.com', PASSWORD)
          await page.goto(`${server.url}/settings/clients/new`)
          assert.equal(await page.getByLabel('Web application with a server').isChecked(), true, 'the default kind')
          await create(page, `Web app ${size.width}`, 'Web application with a server')

          assert.match(new URL(page.url()).pathname, /^\/settings\/clients\/[0-9a-f-]{36}$/)
          const clientId = (await page.getByTestId('client-id').innerText()).trim()
          const secret = (await page.getByTestId('client-secret').innerText()).trim()
          await page.getByTestId('shown-once').waitFor()
          assert.equal(await page.getByTestId('issuer-url').innerText(), server.url)
          assert.equal(await page.getByTestId('authorize-url').innerText(), `${server.url}/oauth/authorize`)
          assert.equal(await page.getByTestId('token-url').innerText(), `${server.url}/oauth/token`)
          assert.equal(await page.getByTestId('discovery-url').innerText(), `${server.url}/.well-known/openid-configuration`)
          assert.equal(await page.getByTestId('discovery-url').getAttribute('title'), `${server.url}/.well-known/openid-configuration`)
          assert.equal(await scrollsSideways(page), false)

          // The integrator's part: approve, take the code from the callback, run the page's curl with it.
          const callbacks: URL[] = []
          await page.route('https://integrator.example/**', async (route) => {
            callbacks.push(new URL(route.request().url()))
            await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Back</title><h1>Back at the app</h1>' })
          })
          const curl = await page.getByTestId('code-exchange').innerText()
          await page.goto(
            `${server.url}/oauth/authorize?${new URLSearchParams({ client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', state: 's' })}`,
          )
          await page.getByRole('button', { name: 'Approve' }).click()
          await page.getByRole('heading', { name: 'Back at the app' }).waitFor()
          const code = callbacks.at(-1)!.searchParams.get('code')!
          const command = curl.replace('YOUR_CLIENT_SECRET', secret).replace('CODE_FROM_THE_REDIRECT', code)
          const { stdout } = await run('sh', ['-c', `${command} --silent`])
          const tokens = JSON.parse(stdout) as { access_token?: string; token_type?: string }
          assert.equal(tokens.token_type, 'Bearer', stdout)
          assert.ok(tokens.access_token)

          // Back on the page later, the secret is hidden again.
          await page.goto(`${server.url}/settings/clients/${clientId}`)
          await page.getByTestId('client-secret-hidden').waitFor()
        }),
    )
  }

  it('creates a public client (single-page or mobile app) without a secret, whose curl sends a PKCE verifier', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, 'olive@example.com', PASSWORD)
      await create(page, 'Phone app', 'Single-page or mobile app')
      assert.equal(await page.getByTestId('client-secret').count(), 0)
      assert.match(await page.getByTestId('connection').innerText(), /Token endpoint/)
      assert.match(await page.getByTestId('code-exchange').innerText(), /-d client_id='[0-9a-f-]{36}'[\s\S]*-d code_verifier=YOUR_PKCE_VERIFIER/)
    }),
  )

  for (const size of SIZES) {
    it(
      `lists clients with words whole, ids and URLs cut short with a copy button, and as labelled cards on a phone, at ${size.width}px`,
      { timeout: 90_000 },
      (t) =>
        withPage(browser, t, async (page, context) => {
          await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
          await page.setViewportSize(size)
          await logIn(page, server.url, 'olive@example.com', PASSWORD)
          await page.goto(`${server.url}/settings/clients`)
          const row = page.getByTestId('client-row').first()
          await row.waitFor()
          assert.deepEqual(await wordsBrokenMidWord(page, 'table'), [])
          assert.deepEqual(await wordsBrokenMidWord(page, 'header'), [])
          assert.equal(await scrollsSideways(page), false)
          const id = row.getByTestId('client-id')
          assert.equal(await id.getAttribute('title'), (await id.textContent())!.trim())
          await row.getByRole('button', { name: /^Copy the Client ID/ }).click()
          assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), await id.getAttribute('title'))
          const label = await page.evaluate<string>(`getComputedStyle(document.querySelector('td[data-label="Client ID"]'), '::before').content`)
          assert.equal(label, size.width < 640 ? '"Client ID"' : 'none')
        }),
    )
  }

  it('asks before logging out without id_token_hint, and Cancel keeps the session', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, 'olive@example.com', PASSWORD)
      await page.goto(`${server.url}/oauth/logout`)
      await page.getByRole('heading', { name: 'Log out' }).waitFor()
      await page.getByRole('link', { name: 'Cancel, stay logged in' }).click()
      await page.waitForURL(`${server.url}/`)
      await page.goto(`${server.url}/settings/clients`)
      assert.equal(new URL(page.url()).pathname, '/settings/clients', 'still logged in')
    }),
  )
})
