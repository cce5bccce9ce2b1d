import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { browserSkipReason, logIn, scrollsSideways, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, seedUser, type SeededUser } from '../../testing/fixtures.js'
import type { TestServer } from '../../testing/server.js'

const skip = browserSkipReason()

function activeTeam(page: Page): Promise<string | null> {
  return page.getByRole('banner').getByLabel('Team').locator('option:checked').textContent()
}

describe('a new team from the team switcher, in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let ada: SeededUser

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Analytical Engines' })
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it('picking "New team" opens the form; the team is created, active, and in its activity log', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, ada.user.email, PASSWORD)
      assert.equal(await activeTeam(page), 'Analytical Engines')
      await Promise.all([
        page.waitForURL((url) => url.pathname === '/teams/new'),
        page.getByRole('banner').getByLabel('Team').selectOption({ label: 'New team…' }),
      ])
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 900 })
        assert.equal(await scrollsSideways(page), false, `no sideways scrolling at ${width} px`)
      }

      await page.getByLabel('Team name').fill('Analytical Engines')
      await page.getByRole('button', { name: 'Create team' }).click()
      await page.getByTestId('error-summary').waitFor()
      assert.equal(((await page.getByTestId('field-error').textContent()) ?? '').trim(), 'A team with this name already exists.')

      await page.getByLabel('Team name').fill('Difference Engines')
      await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.getByRole('button', { name: 'Create team' }).click()])
      assert.equal(await activeTeam(page), 'Difference Engines')
      assert.equal((await page.getByTestId('active-team').textContent())?.trim(), 'Difference Engines')

      await server.ctx.activity.flush()
      await page.goto(`${server.url}/team/activity`)
      const row = page.getByTestId('activity-row').filter({ hasText: 'Team created' })
      assert.equal(await row.count(), 1)
      assert.match((await row.textContent()) ?? '', /127\.0\.0\.1/)
    }),
  )
})
