import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { clientsOfTeam } from '../../clients/access.js'
import { verifyClientSecret } from '../../clients/clients.js'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, REDIRECT, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import type { TestServer } from '../../testing/server.js'
import { personalAccessTokensOf } from '../../tokens/personal-access-tokens.js'

const skip = browserSkipReason()

/** The fields of the page's form as the browser would send them, hidden ones included. */
async function formFields(page: Page, selector: string): Promise<Record<string, string>> {
  return page.locator(selector).evaluate((form) => {
    const fields: Record<string, string> = {}
    // The function runs in the page, where FormData is; this project compiles without the DOM's types.
    const data = new (globalThis as unknown as { FormData: new (form: unknown) => Iterable<[string, string]> }).FormData(form)
    for (const [name, value] of data) if (value !== '' || !(name in fields)) fields[name] = value
    return fields
  })
}

describe('forms act once, in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let owners: SeededUser[]

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      owners = []
      for (const name of ['ada', 'bea', 'cleo', 'dora', 'emma']) owners.push(await seedUser(server.ctx.db, `${name}@example.com`, { team: `Team ${name}` }))
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it('a double click on "Create API client" makes one client: the button is disabled while the request is in flight', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const owner = owners[0]!
      await logIn(page, server.url, owner.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/clients/new`)
      await page.getByLabel('Name', { exact: true }).fill('Double Click App')
      await page.getByLabel('Redirect URL 1', { exact: true }).fill(REDIRECT)
      const posts: string[] = []
      page.on('request', (request) => {
        if (request.method() === 'POST') posts.push(request.url())
      })
      await page.getByRole('button', { name: 'Create API client' }).dblclick()
      await page.getByTestId('success-banner').waitFor()
      assert.equal(posts.length, 1, 'one request sent')
      assert.equal((await clientsOfTeam(server.ctx.db, owner.team!.id)).length, 1)
      await page.goto(`${server.url}/settings/clients`)
      assert.equal(await page.getByTestId('client-row').count(), 1)
    }),
  )

  it('the same form instance sent twice at once makes one client and one token (a form id recorded by the server)', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const owner = owners[1]!
      await logIn(page, server.url, owner.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/clients/new`)
      await page.getByLabel('Name', { exact: true }).fill('Twice Sent App')
      await page.getByLabel('Redirect URL 1', { exact: true }).fill(REDIRECT)
      const clientForm = await formFields(page, 'form.client-form')
      const sendClient = () => page.request.post(`${server.url}/settings/clients`, { form: clientForm, maxRedirects: 0 })
      const [first, second] = await Promise.all([sendClient(), sendClient()])
      assert.deepEqual([first.status(), second.status()], [303, 303])
      assert.equal(first.headers().location, second.headers().location, 'both go to the same page')
      assert.equal((await clientsOfTeam(server.ctx.db, owner.team!.id)).length, 1)
      // Later, too (a reload of the POST, the back button and Submit again).
      assert.equal((await sendClient()).headers().location, first.headers().location)
      assert.equal((await clientsOfTeam(server.ctx.db, owner.team!.id)).length, 1)

      await page.goto(`${server.url}/settings/tokens/new`)
      await page.getByLabel('Name', { exact: true }).fill('Twice sent token')
      const tokenForm = await formFields(page, 'form[action="/settings/tokens"]')
      const sendToken = () => page.request.post(`${server.url}/settings/tokens`, { form: tokenForm, maxRedirects: 0 })
      const tokenPosts = await Promise.all([sendToken(), sendToken()])
      assert.deepEqual(
        tokenPosts.map((r) => r.status()),
        [303, 303],
      )
      assert.equal((await personalAccessTokensOf(server.ctx.db, owner.user.id, owner.team!.id)).length, 1)
    }),
  )

  it(
    'shows a new token once on the page the create form redirects to; a reload says it can no longer be shown and makes no second token',
    { timeout: 60_000 },
    (t) =>
      withPage(browser, t, async (page, context) => {
        const owner = owners[2]!
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
        await logIn(page, server.url, owner.user.email, PASSWORD)
        await page.goto(`${server.url}/settings/tokens/new`)
        await page.getByLabel('Name', { exact: true }).fill('CI script')
        await page.getByRole('button', { name: 'Create token' }).click()
        await page.getByTestId('shown-once').waitFor()
        assert.match(new URL(page.url()).pathname, /^\/settings\/tokens\/created\//, 'Post/Redirect/Get')
        const token = await page.getByTestId('new-token').inputValue()
        assert.match(token, /^gatehouse_pat_/)
        assert.ok(!page.url().includes(token), 'the token is not in the address')
        await page.getByRole('button', { name: 'Copy' }).click()
        assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), token)

        await page.reload()
        await page.getByTestId('token-gone').waitFor()
        assert.equal(await page.getByTestId('new-token').count(), 0)
        assert.ok(!(await page.content()).includes(token))
        await page.getByRole('link', { name: 'Go to your saved tokens' }).click()
        assert.equal(await page.getByTestId('token-row').count(), 1)
        assert.equal((await personalAccessTokensOf(server.ctx.db, owner.user.id, owner.team!.id)).length, 1)
      }),
  )

  it('after "Regenerate secret" the new secret is shown at once with its Copy button, once; a reload hides it again', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page, context) => {
      const owner = owners[3]!
      const { id } = await seedClient(server.ctx, owner, { name: 'Rotating App' })
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url })
      await logIn(page, server.url, owner.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/clients/${id}`)
      await page.getByRole('link', { name: 'Regenerate secret' }).click()
      await page.getByRole('button', { name: 'Regenerate secret' }).click()
      await page.getByTestId('success-banner').waitFor()
      const secret = (await page.getByTestId('client-secret').textContent())!.trim()
      assert.equal((await verifyClientSecret(server.ctx.db, server.ctx.keys, id, secret))?.id, id, 'the new secret is the one shown')
      await page.getByRole('button', { name: 'Copy', exact: true }).nth(1).click()
      assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), secret)
      assert.ok(!page.url().includes(secret), 'the secret is not in the address')

      await page.reload()
      await page.getByTestId('client-secret-hidden').waitFor()
      assert.equal(await page.getByTestId('client-secret').count(), 0)
      assert.equal((await verifyClientSecret(server.ctx.db, server.ctx.keys, id, secret))?.id, id, 'a reload regenerates nothing')
    }),
  )

  it('"Reveal secret" follows Post/Redirect/Get: the secret shows on a page a reload does not post again', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const owner = owners[4]!
      const { id, secret } = await seedClient(server.ctx, owner, { name: 'Revealed App' })
      await logIn(page, server.url, owner.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/clients/${id}`)
      const posts: string[] = []
      page.on('request', (request) => {
        if (request.method() === 'POST') posts.push(new URL(request.url()).pathname)
      })
      await page.getByRole('button', { name: 'Reveal secret' }).click()
      await page.getByTestId('client-secret').waitFor()
      assert.equal((await page.getByTestId('client-secret').textContent())?.trim(), secret)
      assert.equal(new URL(page.url()).pathname, `/settings/clients/${id}`)
      await page.reload()
      await page.getByTestId('client-secret-hidden').waitFor()
      assert.deepEqual(posts, [`/settings/clients/${id}/secret`], 'the reload sent no form')
    }),
  )
})
