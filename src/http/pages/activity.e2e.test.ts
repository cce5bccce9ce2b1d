import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Locator } from 'playwright-core'
import { activityPage } from '../../activity/list.js'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, REDIRECT, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { meStatus } from '../../testing/portal.js'
import type { TestServer } from '../../testing/server.js'

const skip = browserSkipReason()

/** The text of each cell of a row of the log, by its column's label. */
async function cells(row: Locator): Promise<Record<string, string>> {
  return row.locator('td').evaluateAll((tds) =>
    Object.fromEntries(
      tds.map((td) => {
        const cell = td as unknown as { getAttribute(name: string): string | null; textContent: string | null }
        return [cell.getAttribute('data-label') ?? '', (cell.textContent ?? '').replace(/\s+/g, ' ').trim()]
      }),
    ),
  )
}

describe('the Activity page, in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let ada: SeededUser
  let bea: SeededUser

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Analytical Engines' })
      bea = await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Analytical Engines', role: 'member' })
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it('shows each time with seconds, and the moment to the millisecond in <time datetime>', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await server.ctx.activity.flush()
      await page.goto(`${server.url}/team/activity`)
      const logged = (await activityPage(server.ctx.db, { teamId: ada.team!.id }, undefined, 50)).items
      const times = page.getByTestId('activity-row').locator('time')
      assert.equal(await times.count(), logged.length)
      for (let i = 0; i < logged.length; i++) {
        const time = times.nth(i)
        const at = logged[i]!.createdAt
        assert.equal(await time.getAttribute('datetime'), at.toISOString())
        const hms = [at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
        assert.match((await time.textContent()) ?? '', new RegExp(`, ${hms} UTC$`))
      }
    }),
  )

  it('an entry about a deleted token keeps its name: "CI script, deleted", in the events and in the usage', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/tokens/new`)
      await page.getByLabel('Name', { exact: true }).fill('CI script')
      await page.getByRole('button', { name: 'Create token' }).click()
      const token = await page.getByTestId('new-token').inputValue()
      assert.equal(await meStatus(server, token), 200)
      await page.goto(`${server.url}/settings/tokens`)
      await page.getByRole('link', { name: /^Delete/ }).click()
      await page.getByRole('button', { name: /^Delete/ }).click()
      await page.getByTestId('success-banner').waitFor()
      await server.ctx.activity.flush()
      await server.ctx.usage.flush()

      await page.goto(`${server.url}/team/activity`)
      const tokenRows = page.getByTestId('activity-row').filter({ hasText: 'Personal access token' })
      const rows = await Promise.all((await tokenRows.all()).map(cells))
      assert.deepEqual(
        rows.map((r) => [r.What, r['App or token']]),
        [
          ['Personal access token deleted', 'Token: CI script, deleted'],
          ['Personal access token created', 'Token: CI script, deleted'],
        ],
      )
      assert.equal(await page.getByTestId('usage-row').filter({ hasText: 'Token: CI script, deleted' }).count(), 1)
    }),
  )

  it("another member sees the entries about someone's deleted token without its name", { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, bea.user.email, PASSWORD)
      await server.ctx.activity.flush()
      await page.goto(`${server.url}/team/activity`)
      const sources = await page
        .getByTestId('activity-row')
        .filter({ hasText: 'Personal access token deleted' })
        .locator('td[data-label="App or token"]')
        .allTextContents()
      assert.ok(sources.length > 0)
      for (const source of sources) assert.doesNotMatch(source, /, deleted/)
    }),
  )

  it('an entry about a deleted API client keeps its name', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const { id } = await seedClient(server.ctx, ada, { name: 'Old Integration' })
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/clients/${id}/delete`)
      await page.getByRole('button', { name: /^Delete/ }).click()
      await page.getByTestId('success-banner').waitFor()
      await server.ctx.activity.flush()
      await page.goto(`${server.url}/team/activity`)
      const row = page.getByTestId('activity-row').filter({ hasText: 'API client deleted' })
      assert.equal((await cells(row))['App or token'], 'App: Old Integration, deleted')
    }),
  )

  it('an authorisation carries the address it came from', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const { id } = await seedClient(server.ctx, ada, { name: 'Approved App' })
      await page.route(`${REDIRECT}**`, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Back</title><h1>Back at the app</h1>' }),
      )
      await logIn(page, server.url, bea.user.email, PASSWORD)
      await page.goto(`${server.url}/oauth/authorize?client_id=${id}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&state=s1`)
      await page.getByRole('button', { name: 'Approve' }).click()
      await page.getByRole('heading', { name: 'Back at the app' }).waitFor()
      await server.ctx.activity.flush()
      await page.goto(`${server.url}/team/activity`)
      const row = page.getByTestId('activity-row').filter({ hasText: 'App authorised' })
      const shown = await cells(row)
      assert.equal(shown['App or token'], 'App: Approved App')
      assert.equal(shown.User, 'Bea')
      assert.equal(shown.Address, '127.0.0.1')
    }),
  )
})
