import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { clientsOfTeam } from '../../clients/access.js'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, seedUser, type SeededUser } from '../../testing/fixtures.js'
import type { TestServer } from '../../testing/server.js'

const skip = browserSkipReason()

describe('the logout URLs of the API client form, in a browser', { skip: skip ?? false, timeout: 180_000 }, () => {
  let browser: Browser
  let server: TestServer
  let olive: SeededUser

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      olive = await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive', team: 'Acme' })
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it('adds and removes post-logout redirect URL rows like redirect URL rows, and registers what is left', { timeout: 90_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, 'olive@example.com', PASSWORD)
      await page.goto(`${server.url}/settings/clients/new`)
      await page.getByLabel('Name', { exact: true }).fill('Web app')
      await page.getByLabel('Redirect URL 1', { exact: true }).fill('https://web.example/callback')
      await page.getByLabel('Post-logout redirect URL 1', { exact: true }).fill('https://web.example/bye')
      await page.getByRole('button', { name: 'Add another post-logout redirect URL' }).click()
      await page.getByLabel('Post-logout redirect URL 2', { exact: true }).fill('https://web.example/gone')
      await page.getByRole('button', { name: 'Add another post-logout redirect URL' }).click()
      await page.getByLabel('Post-logout redirect URL 3', { exact: true }).fill('https://web.example/later')
      await page.getByRole('button', { name: 'Remove post-logout redirect URL 2' }).click()
      assert.equal(
        await page.getByLabel('Post-logout redirect URL 2', { exact: true }).inputValue(),
        'https://web.example/later',
        'the rows are numbered again',
      )
      assert.equal(await page.getByLabel('Redirect URL 2', { exact: true }).count(), 0, 'the redirect URL rows are left alone')
      await page.getByLabel('Back-channel logout URL').fill('https://web.example/backchannel')
      await Promise.all([
        page.waitForURL(/\/settings\/clients\/[0-9a-f-]{36}\?shown=[\w-]+&done=created$/),
        page.getByRole('button', { name: 'Create API client' }).click(),
      ])

      const created = (await clientsOfTeam(server.ctx.db, olive.team!.id)).find((c) => c.name === 'Web app')
      assert.deepEqual(created?.postLogoutRedirectUris, ['https://web.example/bye', 'https://web.example/later'])
      assert.equal(created?.backchannelLogoutUri, 'https://web.example/backchannel')
    }),
  )
})
