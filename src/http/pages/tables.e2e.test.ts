import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { createResource } from '../../resources/resources.js'
import { browserSkipReason, logIn, scrollsSideways, startBrowserAndServer, stopBrowserAndServer, withPage, wordsBrokenMidWord } from '../../testing/browser.js'
import { PASSWORD, seedClient, seedUser } from '../../testing/fixtures.js'
import { browserFor, codeFor, pkcePair, redeemCode } from '../../testing/oauth.js'
import type { TestServer } from '../../testing/server.js'

const skip = browserSkipReason()
const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]
const NOTES = 'https://notes.example/mcp'
const EMAIL = 'sandra.longname@gatehouse.example'

describe('team apps, activity and sessions tables, in a browser', { skip: skip ?? false, timeout: 240_000 }, () => {
  let browser: Browser
  let server: TestServer

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      const sandbox = await seedUser(server.ctx.db, EMAIL, { name: 'Sandbox User', team: 'Sandbox' })
      await createResource(server.ctx.db, server.ctx.config.issuer, { uri: NOTES, name: 'Notes MCP', scopes: ['notes'] }, Date.now())
      // An OpenID Connect app that signs the user in and gets a token for an MCP server, but never calls Gatehouse's API.
      const app = await seedClient(server.ctx, sandbox, { name: 'Notes OIDC app' })
      const pkce = pkcePair()
      const code = await codeFor(await browserFor(server, sandbox.user), {
        client_id: app.id,
        redirect_uri: 'https://app.example/callback',
        response_type: 'code',
        scope: 'openid profile notes',
        resource: NOTES,
        nonce: 'n',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      })
      await redeemCode(server, app, code, { code_verifier: pkce.verifier, resource: NOTES })
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  for (const size of SIZES) {
    it(
      `shows when each app was last used and what it was granted, with words whole, as labelled cards on a phone, at ${size.width}px`,
      { timeout: 90_000 },
      (t) =>
        withPage(browser, t, async (page) => {
          await page.setViewportSize(size)
          await logIn(page, server.url, EMAIL, PASSWORD)

          await page.goto(`${server.url}/team/apps`)
          const row = page.getByTestId('team-app-row').filter({ hasText: 'Notes OIDC app' })
          assert.match(await row.getByTestId('team-app-last-used').innerText(), /\d{4}, \d\d:\d\d UTC/, 'a token issued is a use')
          assert.deepEqual((await row.getByTestId('team-app-granted').innerText()).split('\n'), ['notes', 'openid', 'profile', 'Notes MCP (resource)'])

          for (const path of ['/team/apps', '/team/activity', '/account/sessions']) {
            await page.goto(`${server.url}${path}`)
            assert.deepEqual(await wordsBrokenMidWord(page, 'table'), [], path)
            assert.equal(await scrollsSideways(page), false, path)
            const label = await page.evaluate<string>(`getComputedStyle(document.querySelector('td[data-label]'), '::before').content`)
            assert.equal(label === 'none', size.width >= 640, `${path}: cells are labelled on a phone only`)
          }

          await page.locator('.menu summary').click()
          assert.deepEqual(await wordsBrokenMidWord(page, '.menu ul'), [])
        }),
    )
  }
})
