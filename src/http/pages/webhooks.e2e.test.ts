import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { changeRole } from '../../accounts/members.js'
import { MESSAGES } from '../../messages.js'
import { browserSkipReason, launchChromium, logIn, withPage } from '../../testing/browser.js'
import { PASSWORD, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { startTestServer, type TestServer } from '../../testing/server.js'
import { WebhookReceiver } from '../../testing/webhook-receiver.js'

const skip = browserSkipReason()

describe('/team/webhooks in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let receiver: WebhookReceiver
  let ada: SeededUser
  let bob: SeededUser

  before(
    async () => {
      receiver = await new WebhookReceiver().start()
      ;[browser, server] = await Promise.all([
        launchChromium(),
        startTestServer('sqlite', { webhookAllowedHosts: ['127.0.0.1'] }, undefined, {
          webhookPolicy: { timeoutMs: 1_000, firstRetryDelayMs: 100, maxRetryDelayMs: 200, giveUpAfterMs: 60_000, pollIntervalMs: 50 },
        }),
      ])
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Analytical Engines' })
      bob = await seedUser(server.ctx.db, 'bob@example.com', { name: 'Bob', team: 'Analytical Engines', role: 'member' })
    },
    { timeout: 90_000 },
  )
  after(async () => {
    await browser?.close()
    await server?.stop()
    await receiver?.close()
  })

  it('an owner adds an endpoint, copies its secret once, and sees each delivery; one sent again keeps its webhook-id', { timeout: 120_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await page.goto(`${server.url}/team/webhooks`)
      await page.getByLabel('URL').fill('https://10.0.0.1/hooks')
      await page.getByLabel('member.role_changed').check()
      await page.getByRole('button', { name: 'Add endpoint' }).click()
      assert.equal(await page.getByTestId('field-error').textContent(), MESSAGES.webhook_url_refused)

      await page.getByLabel('URL').fill(receiver.url)
      await page.getByRole('button', { name: 'Add endpoint' }).click()
      const secret = await page.getByTestId('webhook-secret').inputValue()
      assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/)
      receiver.secret = secret
      await page.reload()
      await page.getByTestId('webhook-secret-gone').waitFor()

      await changeRole(server.ctx.db, server.ctx.activity, ada.team!.id, bob.user.id, 'owner', { user: ada.user, address: null })
      await receiver.arrived(1)
      const id = receiver.received[0]!.id

      await page.goto(`${server.url}/team/webhooks`)
      await page.getByTestId('webhook-row').getByRole('link').click()
      await page.getByTestId('delivery-status').waitFor()
      for (let i = 0; i < 50 && (await page.getByTestId('delivery-status').textContent()) !== 'delivered'; i++) {
        await page.waitForTimeout(100)
        await page.reload()
      }
      assert.equal(await page.getByTestId('delivery-status').textContent(), 'delivered')
      assert.match((await page.getByTestId('delivery-row').textContent()) ?? '', /HTTP 204/)

      await page.getByRole('button', { name: 'Send again' }).click()
      await page.getByTestId('success-banner').waitFor()
      await receiver.arrived(2)
      assert.equal(receiver.received[1]!.id, id)
    }),
  )

  it('a member who is not an owner cannot open the page', { timeout: 60_000 }, async (t) => {
    const carol = await seedUser(server.ctx.db, 'carol@example.com', { name: 'Carol', team: 'Analytical Engines', role: 'member' })
    await withPage(browser, t, async (page) => {
      await logIn(page, server.url, carol.user.email, PASSWORD)
      const response = await page.goto(`${server.url}/team/webhooks`)
      assert.equal(response?.status(), 403)
    })
  })
})
