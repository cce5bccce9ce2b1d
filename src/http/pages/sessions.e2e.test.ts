import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { browserSkipReason, logIn, scrollsSideways, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, seedUser, type SeededUser } from '../../testing/fixtures.js'
import type { TestServer } from '../../testing/server.js'

const skip = browserSkipReason()

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'

describe('signed-in sessions in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
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

  it('tells a phone from this browser at 1280 px and 390 px, and signs the phone out', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const phone = await browser.newContext({ userAgent: IPHONE })
      try {
        await logIn(await phone.newPage(), server.url, ada.user.email, PASSWORD)
        await logIn(page, server.url, ada.user.email, PASSWORD)
        await page.goto(`${server.url}/account/sessions`)
        const rows = page.getByTestId('session-row')
        const phoneRow = rows.filter({ hasText: 'Safari 17 on iOS 17.4' })
        const thisRow = rows.filter({ has: page.getByTestId('this-session') })
        for (const width of [1280, 390]) {
          await page.setViewportSize({ width, height: 900 })
          assert.equal(await rows.count(), 2)
          assert.equal(await phoneRow.count(), 1)
          assert.equal(await thisRow.count(), 1)
          assert.ok(await thisRow.getByTestId('this-session').isVisible(), `"This session" shows at ${width} px`)
          assert.match((await thisRow.getByTestId('session-browser').textContent()) ?? '', /^(Headless)?Chrom(e|ium) \d+ on Linux$/)
          for (const row of [phoneRow, thisRow]) {
            assert.equal((await row.getByTestId('session-address').textContent())?.trim(), '127.0.0.1')
            assert.ok(await row.getByTestId('session-last-active').isVisible(), `last active shows at ${width} px`)
          }
          assert.equal(await scrollsSideways(page), false, `no sideways scrolling at ${width} px`)
        }
        await Promise.all([page.waitForURL((url) => url.searchParams.get('done') === 'ended'), phoneRow.getByRole('button', { name: /^Sign out/ }).click()])
        assert.equal(await rows.count(), 1)
        assert.equal(await phoneRow.count(), 0)
      } finally {
        await phone.close()
      }
    }),
  )
})
