import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { MESSAGES } from '../../messages.js'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { startMailServer, type MailServer } from '../../testing/mail.js'
import type { TestServer } from '../../testing/server.js'
import { oathtoolCode } from '../../testing/totp.js'

const skip = browserSkipReason()

/** Enough for the next authenticator-app code: one 30-second step. */
const STEP_MS = 30_000

async function enterPassword(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(`${baseUrl}/login`)
  await page.getByLabel('E-mail address').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  await Promise.all([page.waitForURL((url) => url.pathname === '/login/code'), page.getByRole('button', { name: 'Log in' }).click()])
}

async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('Code').fill(code)
  await page.getByRole('button', { name: 'Continue' }).click()
}

async function logOut(page: Page): Promise<void> {
  await page.context().clearCookies()
}

describe('two-factor sign-in with an authenticator app in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let mail: MailServer
  let ada: SeededUser
  // The server's clock, moved forward to reach the next code without waiting for it.
  let offset = 0
  const clock = () => Date.now() + offset

  before(
    async () => {
      mail = await startMailServer()
      ;[browser, server] = await startBrowserAndServer({ smtpUrl: mail.url }, clock)
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Analytical Engines' })
    },
    { timeout: 90_000 },
  )
  after(async () => {
    await stopBrowserAndServer(browser, server)
    await mail?.close()
  })

  it(
    'enrols an app, signs in with its codes, refuses a code twice and a recovery code twice, and removes the app after a fresh password',
    { timeout: 180_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        await logIn(page, server.url, ada.user.email, PASSWORD)
        await page.goto(`${server.url}/account/security`)
        assert.ok(await page.getByTestId('no-factors').isVisible())
        await Promise.all([
          page.waitForURL((url) => url.pathname === '/account/security/app'),
          page.getByRole('button', { name: 'Add an authenticator app' }).click(),
        ])
        assert.ok(await page.getByTestId('totp-qr').locator('svg').isVisible(), 'the QR code is drawn on the page')
        const secret = (await page.getByTestId('totp-secret').textContent())!.trim()
        assert.match(secret, /^[A-Z2-7]{32}$/)

        // A code of another secret (another account in the app) is refused; the app stays off.
        await page.getByLabel('The 6-digit code the app shows').fill(oathtoolCode('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', clock()))
        await page.getByRole('button', { name: 'Turn on' }).click()
        await page.getByText(MESSAGES.totp_code_incorrect).waitFor()

        const enrolCode = oathtoolCode(secret, clock())
        await page.getByLabel('The 6-digit code the app shows').fill(enrolCode)
        await Promise.all([
          page.waitForURL((url) => url.pathname.startsWith('/account/security/recovery-codes/')),
          page.getByRole('button', { name: 'Turn on' }).click(),
        ])
        const codes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim())
        assert.equal(codes.length, 10)
        assert.equal(new Set(codes).size, 10)
        for (const code of codes) assert.match(code, /^[a-z2-9]{5}-[a-z2-9]{5}$/)
        // Shown once: a reload shows nothing.
        await page.reload()
        assert.equal(new URL(page.url()).pathname, '/account/security')
        assert.equal(await page.getByTestId('factor-row').count(), 1)
        const added = await mail.nextMailTo(ada.user.email)
        assert.match(added.subject, /two-factor sign-in method was added/)

        // The same code again, within its step: refused.
        await logOut(page)
        await enterPassword(page, server.url, ada.user.email)
        await enterCode(page, enrolCode)
        await page.getByText(MESSAGES.second_factor_reused).waitFor()
        assert.equal(new URL(page.url()).pathname, '/login/code')

        // Nothing was signed in by the password alone.
        const home = await page.context().request.get(`${server.url}/account`, { maxRedirects: 0 })
        assert.equal(home.status(), 303)

        offset += STEP_MS
        await enterCode(page, oathtoolCode(secret, clock()))
        await page.waitForURL((url) => url.pathname === '/')

        // A recovery code works once.
        await logOut(page)
        await enterPassword(page, server.url, ada.user.email)
        await enterCode(page, codes[0]!.toUpperCase())
        await page.waitForURL((url) => url.pathname === '/')
        await logOut(page)
        await enterPassword(page, server.url, ada.user.email)
        await enterCode(page, codes[0]!)
        await page.getByText(MESSAGES.second_factor_incorrect).waitFor()
        offset += STEP_MS
        await enterCode(page, oathtoolCode(secret, clock()))
        await page.waitForURL((url) => url.pathname === '/')
        await page.goto(`${server.url}/account/security`)
        assert.match((await page.getByTestId('recovery-codes-left').textContent()) ?? '', /9 unused recovery codes/)

        // Six minutes on, removing the app asks for the password (and the second step) again.
        offset += 6 * 60_000
        await page.goto(`${server.url}/account/security`)
        await Promise.all([page.waitForURL((url) => url.pathname === '/login'), page.getByRole('button', { name: /^Remove/ }).click()])
        assert.ok(await page.getByTestId('confirm-password').isVisible())
        await page.getByLabel('Password').fill(PASSWORD)
        await Promise.all([page.waitForURL((url) => url.pathname === '/login/code'), page.getByRole('button', { name: 'Log in' }).click()])
        await enterCode(page, oathtoolCode(secret, clock()))
        await page.waitForURL((url) => url.pathname === '/account/security')
        await Promise.all([page.waitForURL((url) => url.searchParams.get('done') === 'removed'), page.getByRole('button', { name: /^Remove/ }).click()])
        assert.ok(await page.getByTestId('no-factors').isVisible())
        const removed = await mail.nextMailTo(ada.user.email)
        assert.match(removed.subject, /two-factor sign-in method was removed/)

        // With no factor left, the password alone signs in again.
        await logOut(page)
        await logIn(page, server.url, ada.user.email, PASSWORD)
        assert.equal(new URL(page.url()).pathname, '/')
      }),
  )
})
