import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { createUser } from '../../accounts/users.js'
import { MESSAGES } from '../../messages.js'
import { createPersonalAccessToken } from '../../tokens/personal-access-tokens.js'
import { browserSkipReason, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { startMailServer, type MailServer } from '../../testing/mail.js'
import type { TestServer } from '../../testing/server.js'

const PASSWORD = 'correct horse battery'
const NEW_PASSWORD = 'lighthouse keeper tuesday'
const skip = browserSkipReason()

async function logIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`)
  await page.getByLabel('E-mail address').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL((url) => url.pathname === '/')
}

async function askForReset(page: Page, baseUrl: string, email: string): Promise<{ text: string; ms: number }> {
  await page.goto(`${baseUrl}/login`)
  await page.getByRole('link', { name: 'Forgot your password?' }).click()
  await page.getByLabel('E-mail address').fill(email)
  const started = performance.now()
  await page.getByRole('button', { name: 'Send the link' }).click()
  const text = (await page.getByTestId('forgot-sent').textContent()) ?? ''
  return { text, ms: performance.now() - started }
}

describe('password reset, change and e-mail verification with real mail', { skip: skip ?? false, timeout: 240_000 }, () => {
  let browser: Browser
  let server: TestServer
  let mail: MailServer
  let apiToken: string

  async function me(): Promise<{ email: string; is_verified: boolean }> {
    const response = await fetch(`${server.url}/api/v2/me`, { headers: { authorization: `Bearer ${apiToken}` } })
    assert.equal(response.status, 200)
    return (await response.json()) as { email: string; is_verified: boolean }
  }

  before(
    async () => {
      mail = await startMailServer()
      ;[browser, server] = await startBrowserAndServer({ smtpUrl: mail.url })
      const { user, team } = await createUser(
        server.ctx.db,
        { email: 'ada@example.com', name: 'Ada', password: PASSWORD, teamName: 'Engines', isVerified: false },
        Date.now(),
      )
      apiToken = (await createPersonalAccessToken(server.ctx.db, { userId: user.id, teamId: team!.id, name: 'check' }, Date.now())).token
    },
    { timeout: 90_000 },
  )
  after(async () => {
    await stopBrowserAndServer(browser, server)
    await mail.close()
  })

  it('answers known and unknown addresses alike, and mails only the known one', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const unknown = await askForReset(page, server.url, 'nobody@example.com')
      const known = await askForReset(page, server.url, 'ada@example.com')
      assert.equal(unknown.text.replace('nobody@example.com', 'X'), known.text.replace('ada@example.com', 'X'))
      process.stdout.write(`forgot-password answer: unknown ${unknown.ms.toFixed(0)} ms, known ${known.ms.toFixed(0)} ms\n`)
      const sent = await mail.nextMailTo('ada@example.com')
      assert.equal(sent.subject, 'Reset your Gatehouse password')
      await new Promise((resolve) => setTimeout(resolve, 500))
      assert.equal(mail.mailTo('nobody@example.com').length, 0)
    }),
  )

  it('resets the password from the mailed link, signs out the other sessions and verifies the address', { timeout: 90_000 }, async (t) => {
    assert.equal((await me()).is_verified, false)
    await withPage(browser, t, async (other) => {
      await logIn(other, server.url, 'ada@example.com', PASSWORD)
      await other.getByTestId('unverified-banner').waitFor()
      await withPage(browser, t, async (page) => {
        await askForReset(page, server.url, 'ada@example.com')
        const link = (await mail.nextMailTo('ada@example.com')).link ?? ''
        assert.ok(link?.startsWith(`${server.url}/reset/`))
        await page.goto(link)
        // The token leaves the address bar at once.
        assert.equal(new URL(page.url()).pathname, '/reset')
        await page.getByLabel('New password').fill('password1')
        await page.getByRole('button', { name: 'Set the new password' }).click()
        await page.getByTestId('error-summary').getByText(MESSAGES.password_common).waitFor()
        assert.equal(await page.getByLabel('New password').inputValue(), 'password1')
        await page.getByLabel('New password').fill(NEW_PASSWORD)
        await page.getByRole('button', { name: 'Set the new password' }).click()
        await page.waitForURL((url) => url.pathname === '/account')
        await page.getByTestId('success-banner').waitFor()
        await page.getByTestId('grants-stay').waitFor()
        assert.equal(await page.getByTestId('unverified-banner').count(), 0)

        const notice = await mail.nextMailTo('ada@example.com')
        assert.equal(notice.subject, 'Your Gatehouse password was changed')
        // The other browser's session is over; the personal access token still works.
        await other.goto(`${server.url}/account`)
        await other.waitForURL((url) => url.pathname === '/login')
        assert.equal((await me()).is_verified, true)

        // The link worked once.
        await page.goto(link)
        assert.equal(await page.getByTestId('link-problem').textContent(), MESSAGES.link_used)
        await page.goto(`${server.url}/reset/${'x'.repeat(43)}`)
        assert.equal(await page.getByTestId('link-problem').textContent(), MESSAGES.link_unknown)
      })
    })
  })

  it('changes the e-mail address only once the link sent to the new one is followed', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, 'ada@example.com', NEW_PASSWORD)
      await page.goto(`${server.url}/account`)
      await page.getByLabel('New e-mail address').fill('ada@localhost')
      await page.getByRole('button', { name: 'Change e-mail address' }).click()
      await page.getByTestId('error-summary').getByText(MESSAGES.email_invalid).waitFor()
      assert.equal(await page.getByLabel('New e-mail address').inputValue(), 'ada@localhost')
      await page.getByLabel('New e-mail address').fill('ada@lovelace.example')
      await page.getByRole('button', { name: 'Change e-mail address' }).click()
      await page.getByTestId('success-banner').waitFor()
      assert.equal(await page.getByTestId('current-email').textContent(), 'ada@example.com')

      const notice = await mail.nextMailTo('ada@example.com')
      assert.match(notice.text, /ada@lovelace\.example/)
      const link = (await mail.nextMailTo('ada@lovelace.example')).link ?? ''
      assert.ok(link?.startsWith(`${server.url}/verify/`))
      assert.equal((await me()).email, 'ada@example.com')
      await page.goto(link)
      await page.waitForURL((url) => url.pathname === '/account')
      assert.equal(await page.getByTestId('current-email').textContent(), 'ada@lovelace.example')
      const after = await me()
      assert.equal(after.email, 'ada@lovelace.example')
      assert.equal(after.is_verified, true)
    }),
  )
})
