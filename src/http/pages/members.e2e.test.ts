import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { BANNERS, MESSAGES } from '../../messages.js'
import { browserSkipReason, launchChromium, logIn, withPage } from '../../testing/browser.js'
import { PASSWORD, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { startMailServer, type MailServer } from '../../testing/mail.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const skip = browserSkipReason()

async function invite(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(`${baseUrl}/team/members`)
  await page.getByLabel('E-mail address').fill(email)
  await page.getByRole('button', { name: 'Send invitation' }).click()
  await page.getByTestId('success-banner').waitFor()
}

async function memberEmails(page: Page, baseUrl: string): Promise<string[]> {
  await page.goto(`${baseUrl}/team/members`)
  return page.getByTestId('member-row').locator('td[data-label="E-mail address"]').allTextContents()
}

describe('members, invitations and sign-up in a browser, with real mail', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let smtp: MailServer
  let ada: SeededUser

  before(
    async () => {
      smtp = await startMailServer()
      ;[browser, server] = await Promise.all([launchChromium(), startTestServer('sqlite', { smtpUrl: smtp.url, signup: 'open' })])
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Analytical Engines' })
      await seedUser(server.ctx.db, 'charles@example.com', { name: 'Charles', team: 'Difference Engines' })
    },
    { timeout: 90_000 },
  )
  after(async () => {
    await browser?.close()
    await server?.stop()
    await smtp?.close()
  })

  it('a new person: invitation mail, link, name and password, log in; the member list shows them', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await invite(page, server.url, 'grace@example.com')
      assert.deepEqual(await page.getByTestId('invitation-row').locator('td[data-label="E-mail address"]').allTextContents(), ['grace@example.com'])
      const mail = await smtp.nextMailTo('grace@example.com')
      assert.match(mail.subject, /Analytical Engines/)
      assert.ok(mail.link?.startsWith(`${server.url}/invitations/`))

      await withPage(browser, t, async (guest) => {
        await guest.goto(mail.link!)
        assert.equal(new URL(guest.url()).pathname, '/invitation', 'the link token leaves the address bar')
        await guest.getByLabel('Your name').fill('Grace Hopper')
        await guest.getByLabel('Password').fill('compilers all the way down')
        await guest.getByRole('button', { name: 'Create account and join' }).click()
        await guest.waitForURL((url) => url.pathname === '/login')
        await guest.getByLabel('Password').fill('compilers all the way down')
        await Promise.all([guest.waitForURL((url) => url.pathname === '/team/members'), guest.getByRole('button', { name: 'Log in' }).click()])
        assert.deepEqual(await memberEmails(guest, server.url), ['ada@example.com', 'grace@example.com'])
      })
      const grace = await server.ctx.db.kysely.selectFrom('users').select('is_verified').where('email', '=', 'grace@example.com').executeTakeFirstOrThrow()
      assert.equal(Number(grace.is_verified), 1)
      await page.goto(`${server.url}/team/members`)
      assert.equal(await page.getByTestId('invitation-row').count(), 0)
    }),
  )

  it('an existing user accepts while logged in; a user logged in with another address is told so', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await invite(page, server.url, 'charles@example.com')
      const mail = await smtp.nextMailTo('charles@example.com')

      await withPage(browser, t, async (other) => {
        await logIn(other, server.url, ada.user.email, PASSWORD)
        const response = await other.goto(mail.link!)
        assert.equal(response?.status(), 403)
        assert.match((await other.getByTestId('other-address').textContent()) ?? '', /this invitation is for charles@example\.com/)
      })

      await withPage(browser, t, async (charles) => {
        await logIn(charles, server.url, 'charles@example.com', PASSWORD)
        await charles.goto(mail.link!)
        await Promise.all([
          charles.waitForURL((url) => url.pathname === '/team/members'),
          charles.getByRole('button', { name: 'Join Analytical Engines' }).click(),
        ])
        assert.deepEqual(await memberEmails(charles, server.url), ['ada@example.com', 'charles@example.com', 'grace@example.com'])
      })
    }),
  )

  it('sign-up: a mail with a link that confirms the address; a known address gets the same page and a mail saying so', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const signUp = async (email: string): Promise<string> => {
        await page.goto(`${server.url}/login`)
        await page.getByRole('link', { name: 'Sign up' }).click()
        await page.getByLabel('Your name').fill('Mary Somerville')
        await page.getByLabel('E-mail address').fill(email)
        await page.getByLabel('Password').fill('on the connexion of the sciences')
        await page.getByRole('button', { name: 'Sign up' }).click()
        return ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ').replace(email, '<address>').trim()
      }
      await page.goto(`${server.url}/signup`)
      await page.getByLabel('Your name').fill('Mary Somerville')
      await page.getByLabel('E-mail address').fill('mary@example.com')
      await page.getByLabel('Password').fill('qwertyuiop')
      await page.getByRole('button', { name: 'Sign up' }).click()
      assert.equal((await page.getByTestId('error-summary').textContent())?.trim(), MESSAGES.password_common)
      assert.deepEqual(
        [await page.getByLabel('Your name').inputValue(), await page.getByLabel('E-mail address').inputValue(), await page.getByLabel('Password').inputValue()],
        ['Mary Somerville', 'mary@example.com', 'qwertyuiop'],
      )

      const fresh = await signUp('mary@example.com')
      const known = await signUp('ada@example.com')
      assert.equal(known, fresh)

      // The same link, page and rule as "Send the link again" on the account page.
      const verification = await smtp.nextMailTo('mary@example.com')
      assert.ok(verification.link?.startsWith(`${server.url}/verify/`))
      await page.goto(verification.link!)
      await page.waitForURL((url) => url.pathname === '/login')
      const mary = await server.ctx.db.kysely.selectFrom('users').select('is_verified').where('email', '=', 'mary@example.com').executeTakeFirstOrThrow()
      assert.equal(Number(mary.is_verified), 1)
      await page.getByLabel('E-mail address').fill('mary@example.com')
      await page.getByLabel('Password').fill('on the connexion of the sciences')
      await Promise.all([page.waitForURL((url) => url.pathname === '/account'), page.getByRole('button', { name: 'Log in' }).click()])
      assert.equal((await page.getByTestId('success-banner').textContent())?.trim(), BANNERS.account.verified)
      assert.deepEqual(await memberEmails(page, server.url), ['mary@example.com'])

      const notice = await smtp.nextMailTo('ada@example.com')
      assert.match(notice.subject, /already have a Gatehouse account/)
    }),
  )

  it('with sign-up off, the login page has no sign-up link and /signup is the page-not-found page', { timeout: 90_000 }, async (t) => {
    const closed = await startTestServer('sqlite', { smtpUrl: smtp.url, signup: 'off' })
    try {
      await withPage(browser, t, async (page) => {
        await page.goto(`${closed.url}/login`)
        await page.getByRole('button', { name: 'Log in' }).waitFor()
        assert.equal(await page.getByRole('link', { name: 'Sign up' }).count(), 0)
        assert.equal(await page.locator('a[href="/signup"]').count(), 0)
        const response = await page.goto(`${closed.url}/signup`)
        assert.equal(response?.status(), 404)
        assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Page not found')
        assert.equal(await page.getByLabel('Password').count(), 0)
      })
    } finally {
      await closed.stop()
    }
  })
})
