import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Locator, Page } from 'playwright-core'
import { SESSION_TTL_MS } from '../../accounts/sessions.js'
import { addMember } from '../../accounts/teams.js'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, REDIRECT, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { authorize, browserFor } from '../../testing/oauth.js'
import type { TestServer } from '../../testing/server.js'
import { createPersonalAccessToken } from '../../tokens/personal-access-tokens.js'

const skip = browserSkipReason()

const PHONE = { width: 390, height: 844 }

async function box(locator: Locator) {
  const found = await locator.boundingBox()
  assert.ok(found, 'the element is rendered')
  return found
}

/** The element with the keyboard focus, described by its tag and id. */
function focused(page: Page): Promise<string> {
  return page.evaluate<string>("`${document.activeElement?.tagName.toLowerCase()}#${document.activeElement?.id ?? ''}`")
}

describe('finding your way around the portal, in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  /** Added to the real time by the server's clock, to let a session expire while a page is open. */
  let clockOffset = 0
  let ada: SeededUser
  let bea: SeededUser

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer({}, () => Date.now() + clockOffset)
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Analytical Engines' })
      await seedUser(server.ctx.db, 'charles@example.com', { team: 'Difference Engines' })
      bea = await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Bea Labs' })
      await seedClient(server.ctx, ada, { name: 'First App' })
      const authorised = await seedClient(server.ctx, ada, { name: 'Second App' })
      await createPersonalAccessToken(server.ctx.db, { userId: ada.user.id, teamId: ada.team!.id, name: 'CI script', lifetimeDays: 30 }, Date.now())
      await authorize(await browserFor(server, ada.user), { client_id: authorised.id, redirect_uri: REDIRECT, response_type: 'code' })
      await server.ctx.activity.flush()
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it(
    '"Developer settings" in the user menu opens GET /settings: API clients and Personal access tokens with counts and a line each',
    { timeout: 60_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        await logIn(page, server.url, ada.user.email, PASSWORD)
        await page.getByRole('navigation', { name: 'Account' }).getByText('Ada Lovelace', { exact: true }).click()
        await page.getByRole('link', { name: 'Developer settings' }).click()
        await page.getByRole('heading', { name: 'Developer settings' }).waitFor()
        assert.equal(new URL(page.url()).pathname, '/settings')

        const clients = page.getByTestId('settings-clients')
        assert.equal(await clients.locator('.count').textContent(), '2')
        assert.match((await clients.locator('.hint').textContent()) ?? '', /OAuth 2\.0/)
        const tokens = page.getByTestId('settings-tokens')
        assert.equal(await tokens.locator('.count').textContent(), '1')
        assert.match((await tokens.locator('.hint').textContent()) ?? '', /scripts/)

        await tokens.getByRole('link', { name: 'Personal access tokens' }).click()
        await page.getByTestId('token-row').first().waitFor()
        assert.equal(new URL(page.url()).pathname, '/settings/tokens')
      }),
  )

  it('the home page shows where to go next: clients, tokens and Team apps with counts, and the latest activity', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, ada.user.email, PASSWORD)
      const steps = page.getByTestId('next-steps')
      await steps.waitFor()
      const counts = await steps.locator('> li').evaluateAll((items) =>
        items.map((li) => {
          const el = li as unknown as { querySelector(s: string): { textContent: string | null } | null }
          return [el.querySelector('a')?.textContent, el.querySelector('.count')?.textContent ?? null]
        }),
      )
      assert.deepEqual(counts, [
        ['API clients', '2'],
        ['Personal access tokens', '1'],
        ['Team apps', '1'],
        ['Activity', null],
      ])
      assert.match((await steps.locator('.recent').textContent()) ?? '', /App authorised/)
      await steps.getByRole('link', { name: 'Team apps' }).click()
      await page.getByRole('heading', { name: 'Team apps', exact: true }).waitFor()
    }),
  )

  it('a member of a new team sees the same next steps, at zero, and their own login as the latest activity', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, bea.user.email, PASSWORD)
      const steps = page.getByTestId('next-steps')
      await steps.waitFor()
      assert.deepEqual(await steps.locator('.count').allTextContents(), ['0', '0', '0'])
      await server.ctx.activity.flush()
      await page.reload()
      assert.match((await steps.locator('.recent').textContent()) ?? '', /Logged in/)
    }),
  )

  it('a session that expired while a form was open: the login page says so, and logging in leads back to the form', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, bea.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/clients/new`)
      await page.getByLabel('Name', { exact: true }).fill('Late App')
      await page.getByLabel('Redirect URL 1', { exact: true }).fill(REDIRECT)
      clockOffset = SESSION_TTL_MS + 60_000
      try {
        await page.getByRole('button', { name: 'Create API client' }).click()
        await page.getByTestId('session-expired').waitFor()
        assert.equal(new URL(page.url()).pathname, '/login')
        await page.getByLabel('E-mail address').fill(bea.user.email)
        await page.getByLabel('Password').fill(PASSWORD)
        await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.getByRole('button', { name: 'Log in' }).click()])
        assert.equal(new URL(page.url()).pathname, '/settings/clients/new')
        await page.getByRole('heading', { name: 'Create an API client' }).waitFor()
      } finally {
        clockOffset = 0
      }
    }),
  )

  it('a page opened after the session expired also says so on the login page, and comes back to that page', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, bea.user.email, PASSWORD)
      clockOffset = SESSION_TTL_MS + 60_000
      try {
        await page.goto(`${server.url}/team/activity`)
        await page.getByTestId('session-expired').waitFor()
        await page.getByLabel('E-mail address').fill(bea.user.email)
        await page.getByLabel('Password').fill(PASSWORD)
        await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.getByRole('button', { name: 'Log in' }).click()])
        assert.equal(new URL(page.url()).pathname, '/team/activity')
      } finally {
        clockOffset = 0
      }
    }),
  )

  it('a first visit to the login page says nothing about an expired session', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await page.goto(`${server.url}/settings`)
      await page.getByRole('heading', { name: 'Log in' }).waitFor()
      assert.equal(await page.getByTestId('session-expired').count(), 0)
    }),
  )

  it('every page has a favicon the browser can load', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      for (const path of ['/login', '/settings']) {
        await page.goto(`${server.url}${path}`)
        const href = await page.locator('link[rel="icon"]').getAttribute('href')
        assert.ok(href, `${path} names a favicon`)
        const icon = await page.request.get(new URL(href, page.url()).href)
        assert.equal(icon.status(), 200)
        assert.match(icon.headers()['content-type'] ?? '', /^image\/svg\+xml/)
        assert.match(await icon.text(), /<svg[\s>]/)
      }
    }),
  )

  it('the first Tab shows a "Skip to main content" link on screen; it moves the focus to the page content', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/clients`)
      const skipLink = page.getByRole('link', { name: 'Skip to main content' })
      const hidden = await box(skipLink)
      assert.ok(hidden.y + hidden.height <= 0, 'out of sight until focused')
      await page.keyboard.press('Tab')
      assert.equal(await skipLink.evaluate((el) => el === (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement), true)
      const shown = await box(skipLink)
      assert.ok(shown.y >= 0 && shown.x >= 0 && shown.width > 40 && shown.height > 10, `on screen when focused: ${JSON.stringify(shown)}`)
      await page.keyboard.press('Enter')
      assert.equal(await focused(page), 'main#main')
      await page.keyboard.press('Tab')
      assert.equal(await page.evaluate<boolean>("document.querySelector('main').contains(document.activeElement)"), true, 'the next Tab stays in the content')
    }),
  )

  it('at 390 px the header is one row: brand, team switch and user menu side by side', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await page.setViewportSize(PHONE)
      const member = await seedUser(server.ctx.db, 'long.name@example.com', { name: 'Bartholomew Longname', team: 'Analytical Engines', role: 'member' })
      await addMember(server.ctx.db, 'Difference Engines', member.user.email, 'member', Date.now())
      await logIn(page, server.url, member.user.email, PASSWORD)
      const header = page.getByRole('banner')
      const parts = [await box(header.getByRole('link', { name: 'Gatehouse' })), await box(header.getByLabel('Team')), await box(header.locator('summary'))]
      const row = await box(header)
      assert.ok(row.height <= 60, `one row of header, not ${row.height}px`)
      for (const part of parts) assert.ok(part.y >= row.y && part.y + part.height <= row.y + row.height, 'inside the header')
      const centres = parts.map((p) => p.y + p.height / 2)
      assert.ok(Math.max(...centres) - Math.min(...centres) < 12, `side by side: ${JSON.stringify(parts)}`)
      assert.ok(parts[0]!.x + parts[0]!.width <= parts[1]!.x && parts[1]!.x + parts[1]!.width <= parts[2]!.x, 'left to right')
      assert.ok(parts[2]!.x + parts[2]!.width <= PHONE.width, 'within the screen')
    }),
  )

  it('at 390 px a redirect URL field is wide enough to read a whole callback URL, on the create and the edit form', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await page.setViewportSize(PHONE)
      const { id } = await seedClient(server.ctx, ada, { name: 'Phone App' })
      await logIn(page, server.url, ada.user.email, PASSWORD)
      for (const path of ['/settings/clients/new', `/settings/clients/${id}`]) {
        await page.goto(`${server.url}${path}`)
        const field = page.getByLabel('Redirect URL 1', { exact: true })
        await field.fill('https://app.example.com/oauth/callback')
        const { width } = await box(field)
        assert.ok(width >= PHONE.width * 0.8, `${path}: the field is ${width}px wide at ${PHONE.width}px`)
        const overflow = await field.evaluate((el) => {
          const input = el as unknown as { scrollWidth: number; clientWidth: number }
          return input.scrollWidth - input.clientWidth
        })
        assert.ok(overflow <= 0, `${path}: the URL fits in the field (${overflow}px hidden)`)
      }
    }),
  )
})
