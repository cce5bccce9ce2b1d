import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { createResource } from '../../resources/resources.js'
import { browserSkipReason, scrollsSideways, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, seedClient, seedUser, type SeededClient } from '../../testing/fixtures.js'
import { pkcePair } from '../../testing/oauth.js'
import type { TestServer } from '../../testing/server.js'

const skip = browserSkipReason()
const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]
const NOTES = 'https://notes.example/mcp'
const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="#0a7d55"/></svg>'

describe('branding and context on the login and consent pages, in a browser', { skip: skip ?? false, timeout: 240_000 }, () => {
  let browser: Browser
  let server: TestServer
  let app: SeededClient
  let logoDir: string

  before(
    async () => {
      logoDir = mkdtempSync(join(tmpdir(), 'gatehouse-logo-'))
      writeFileSync(join(logoDir, 'acme.svg'), LOGO)
      ;[browser, server] = await startBrowserAndServer({
        brand: { productName: 'Acme ID', logo: { file: join(logoDir, 'acme.svg') }, accentColor: '#0a7d55' },
      })
      const olive = await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive', team: 'Notes Makers' })
      app = await seedClient(server.ctx, olive, { name: 'Notes app' })
      await createResource(
        server.ctx.db,
        server.ctx.config.issuer,
        { uri: NOTES, name: 'Notes MCP', scopes: ['notes', 'notes:share'], scopeDescriptions: { notes: 'Read and change your notes' } },
        Date.now(),
      )
    },
    { timeout: 90_000 },
  )
  after(async () => {
    await stopBrowserAndServer(browser, server)
    rmSync(logoDir, { recursive: true, force: true })
  })

  function authorizeUrl(): string {
    const query = new URLSearchParams({
      client_id: app.id,
      redirect_uri: 'https://app.example/callback',
      response_type: 'code',
      scope: 'openid profile notes notes:share',
      resource: NOTES,
      state: 's1',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    })
    return `${server.url}/oauth/authorize?${query}`
  }

  /** What a person reads: the product is never called Gatehouse, and nothing makes the page scroll sideways. */
  async function assertBranded(page: Page, title: string): Promise<void> {
    assert.equal(await page.title(), title)
    assert.equal(await page.getByTestId('brand').innerText(), 'Acme ID')
    const logoWidth = "document.querySelector('[data-testid=brand-logo]').complete && document.querySelector('[data-testid=brand-logo]').naturalWidth"
    assert.equal(await page.evaluate<number>(logoWidth), 40, 'the logo loads')
    assert.doesNotMatch(await page.locator('body').innerText(), /Gatehouse/)
    assert.equal(await scrollsSideways(page), false)
  }

  for (const size of SIZES) {
    it(
      `names the product, its logo and colour, the app signed in to, who registered it, where it sends you and what it may do, at ${size.width}px`,
      { timeout: 90_000 },
      (t) =>
        withPage(browser, t, async (page) => {
          await page.setViewportSize(size)
          await page.goto(authorizeUrl())
          await page.waitForURL((url) => url.pathname === '/login')
          await assertBranded(page, 'Log in · Acme ID')
          assert.equal(await page.getByTestId('login-app').innerText(), 'to continue to Notes app with your Acme ID account')
          const button = await page.evaluate<string>("getComputedStyle(document.querySelector('button.primary')).backgroundColor")
          assert.equal(button, 'rgb(10, 125, 85)')

          await page.getByLabel('E-mail address').fill('olive@example.com')
          await page.getByLabel('Password').fill(PASSWORD)
          await page.getByRole('button', { name: 'Log in' }).click()
          await page.getByRole('heading', { name: 'Notes app wants to access your account' }).waitFor()
          // Only the app's name, which its registrant typed, is isolated in the title.
          await assertBranded(page, 'Authorise \u2068Notes app\u2069 · Acme ID')
          assert.equal(await page.getByTestId('registered-by').innerText(), 'Registered by the team Notes Makers on Acme ID.')
          assert.equal(await page.getByTestId('redirect-host').innerText(), 'app.example')
          assert.deepEqual(await page.getByTestId('consent-scope').allInnerTexts(), [
            'Read and change your notes',
            'Use Notes MCP with the permission “notes:share”',
            'Sign you in with your account',
            'See your name',
          ])
        }),
    )
  }

  it('serves the logo file from the data directory and the accent colour as a stylesheet', async () => {
    const logo = await fetch(`${server.url}/assets/logo`)
    assert.equal(logo.headers.get('content-type'), 'image/svg+xml')
    assert.equal(await logo.text(), LOGO)
    const css = await fetch(`${server.url}/assets/brand.css`)
    assert.equal(await css.text(), ':root { --accent: #0a7d55; }\n')
  })
})
