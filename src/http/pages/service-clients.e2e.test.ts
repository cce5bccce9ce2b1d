import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { clientsOfTeam } from '../../clients/access.js'
import { MESSAGES } from '../../messages.js'
import { browserSkipReason, launchChromium, logIn, withPage } from '../../testing/browser.js'
import { PASSWORD, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const skip = browserSkipReason()

describe(
  'a team owner creates a service client in the portal; its service account is a bot among the members',
  { skip: skip ?? false, timeout: 180_000 },
  () => {
    let browser: Browser
    let server: TestServer
    let ada: SeededUser

    before(
      async () => {
        ;[browser, server] = await Promise.all([launchChromium(), startTestServer('sqlite')])
        ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Engines' })
        await seedUser(server.ctx.db, 'charles@example.com', { name: 'Charles', team: 'Engines', role: 'member' })
      },
      { timeout: 90_000 },
    )
    after(async () => {
      await browser?.close()
      await server?.stop()
    })

    async function newServiceClient(page: Page, name: string): Promise<void> {
      await page.goto(`${server.url}/settings/clients/new`)
      await page.getByLabel('Name', { exact: true }).fill(name)
      await page.getByLabel('Service client').check()
    }

    const create = (page: Page) => page.getByRole('button', { name: 'Create API client' }).click()

    it('creates a service client, reveals its secret, gets a token with client_credentials; the bot shows on Members and Team apps', { timeout: 90_000 }, (t) =>
      withPage(browser, t, async (page) => {
        await logIn(page, server.url, ada.user.email, PASSWORD)
        await newServiceClient(page, 'Nightly sync')
        // A new client opens on its own page, its secret shown once.
        await Promise.all([page.waitForURL(/\/settings\/clients\/[^/?]+\?.*done=created/), create(page)])
        assert.match((await page.getByTestId('client-kind').textContent()) ?? '', /Service client/)
        const clientId = (await page.getByTestId('client-id').textContent())!.trim()
        const clientSecret = (await page.getByTestId('client-secret').innerText()).trim()

        const token = await fetch(`${server.url}/oauth/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          },
          body: 'grant_type=client_credentials&scope=read',
        })
        assert.equal(token.status, 200)
        const { access_token } = (await token.json()) as { access_token: string }
        const me = (await (await fetch(`${server.url}/api/v2/me`, { headers: { authorization: `Bearer ${access_token}` } })).json()) as Record<string, unknown>
        assert.equal(me.is_service_account, true)
        assert.equal(me.name, 'Nightly sync')

        await page.goto(`${server.url}/team/members`)
        const bot = page.getByTestId('member-row').filter({ hasText: 'Nightly sync' })
        assert.equal(await bot.getByTestId('bot').textContent(), 'bot')
        assert.equal(await bot.getByRole('link', { name: /Remove/ }).count(), 0, 'a service account is removed with its client, not here')
        assert.equal(await bot.getByRole('button', { name: /Make owner/ }).count(), 0)
        assert.equal(await page.getByTestId('member-row').filter({ hasText: 'Ada Lovelace' }).getByTestId('bot').count(), 0)

        await page.goto(`${server.url}/team/apps`)
        const app = page.getByTestId('team-app-row').filter({ hasText: 'Nightly sync' })
        assert.equal(await app.getByTestId('bot').textContent(), 'bot')
      }),
    )

    it(
      'refuses redirect URLs for a service client and a pasted private key, next to the fields; takes a PEM public key for private_key_jwt',
      { timeout: 90_000 },
      (t) =>
        withPage(browser, t, async (page) => {
          await logIn(page, server.url, ada.user.email, PASSWORD)
          await newServiceClient(page, 'With redirect')
          await page.getByLabel('Redirect URL 1', { exact: true }).fill('https://app.example.com/cb')
          await create(page)
          await page.getByTestId('error-summary').waitFor()
          assert.ok((await page.getByTestId('field-error').allTextContents()).includes(MESSAGES.service_client_redirect_uris))

          const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
          await newServiceClient(page, 'Keyed job')
          await page.getByLabel('Private key (private_key_jwt)').check()
          await page.getByLabel('Public key').fill(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())
          await create(page)
          await page.getByTestId('error-summary').waitFor()
          assert.match((await page.locator('#public-key-error').textContent()) ?? '', /private key/)
          assert.equal(await page.getByLabel('Service client').isChecked(), true, 'the choices are kept')

          await page.getByLabel('Public key').fill(publicKey.export({ format: 'pem', type: 'spki' }).toString())
          await Promise.all([page.waitForURL(/\/settings\/clients\/[^/?]+\?.*done=created/), create(page)])
          const keyed = (await clientsOfTeam(server.ctx.db, ada.team!.id)).find((c) => c.name === 'Keyed job')
          assert.equal(keyed?.tokenEndpointAuthMethod, 'private_key_jwt')
          assert.equal(keyed?.jwks?.keys.length, 1)
          await page.getByTestId('client-no-secret').waitFor()
        }),
    )

    it('a member who is not an owner cannot create a service client', { timeout: 60_000 }, (t) =>
      withPage(browser, t, async (page) => {
        await logIn(page, server.url, 'charles@example.com', PASSWORD)
        await newServiceClient(page, 'Sneaky job')
        await create(page)
        await page.getByTestId('error-summary').waitFor()
        assert.ok((await page.getByTestId('field-error').allTextContents()).includes(MESSAGES.owner_only))
        assert.equal((await clientsOfTeam(server.ctx.db, ada.team!.id)).filter((c) => c.name === 'Sneaky job').length, 0)
      }),
    )
  },
)
