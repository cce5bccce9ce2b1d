import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { createUser } from '../../accounts/users.js'
import { registerClient } from '../../clients/clients.js'
import { insertClient } from '../../db/clients.js'
import { MESSAGES } from '../../messages.js'
import { browserSkipReason, focusedTestId, logIn, scrollsSideways, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import type { TestServer } from '../../testing/server.js'
import { createPersonalAccessToken } from '../../tokens/personal-access-tokens.js'

const PASSWORD = 'correct horse battery'
const REDIRECT = 'https://integrator.example/callback'
/** A hundred characters without a space: the longest name the portal accepts. */
const LONG_WORD = 'Supercalifragilisticexpialidocious'.repeat(3).slice(0, 100)
const skip = browserSkipReason()

/**
 * Whether the words, each the first of its kind in the element's text, are
 * drawn in the order given: line by line from the top, left to right on a line.
 */
async function readInOrder(page: Page, selector: string, words: string[]): Promise<boolean> {
  // The function runs in the page, where the DOM is; this project compiles without the DOM's types.
  const boxes = await page.evaluate(
    ({ selector, words }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the page's DOM, which has no types here
      const document = (globalThis as any).document
      const root = document.querySelector(selector)
      return words.map((word) => {
        const walker = document.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */)
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const at: number = node.textContent.indexOf(word)
          if (at === -1) continue
          const range = document.createRange()
          range.setStart(node, at)
          range.setEnd(node, at + word.length)
          const box = range.getBoundingClientRect()
          return { left: box.left as number, top: Math.round(box.top) }
        }
        throw new Error(`no text ${word}`)
      })
    },
    { selector, words },
  )
  return boxes.every((box, i) => i === 0 || box.top > boxes[i - 1]!.top || (box.top === boxes[i - 1]!.top && box.left > boxes[i - 1]!.left))
}

describe('names people type, in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let longClientId: string
  let legacyClientId: string
  let longTokenId: string

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      const now = Date.now()
      const db = server.ctx.db
      await createUser(db, { email: 'ada@example.com', name: 'Ada Lovelace', password: PASSWORD, teamName: 'Engines' }, now)
      const { user, team } = await createUser(
        db,
        { email: 'long@example.com', name: LONG_WORD, password: PASSWORD, teamName: `Team${LONG_WORD.slice(4)}` },
        now,
      )
      const registered = await registerClient(
        db,
        server.ctx.keys,
        { name: LONG_WORD, redirectUris: [`${REDIRECT}/${LONG_WORD}`], ownerUserId: user.id, teamId: team!.id },
        now,
      )
      longClientId = registered.client.id
      longTokenId = (await createPersonalAccessToken(db, { userId: user.id, teamId: team!.id, name: LONG_WORD }, now)).record.id
      // A name stored before names were checked: the pages must still keep their own sentences in order around it.
      legacyClientId = randomUUID()
      await insertClient(db.kysely, {
        id: legacyClientId,
        name: 'Evil\u202Ecorp',
        redirectUris: [REDIRECT],
        isConfidential: true,
        isFirstParty: false,
        ownerUserId: user.id,
        teamId: team!.id,
        secret: undefined,
        now,
      })
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it(
    'refuses a client name with a text-direction override next to the field, keeps what was typed and moves focus to the error summary',
    { timeout: 60_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        await logIn(page, server.url, 'ada@example.com', PASSWORD)
        await page.goto(`${server.url}/settings/clients/new`)
        const typed = 'Pay\u202Elapyap'
        await page.getByLabel('Name', { exact: true }).fill(typed)
        await page.getByLabel('Redirect URL 1', { exact: true }).fill(REDIRECT)
        await page.getByRole('button', { name: 'Create API client' }).click()
        await page.getByTestId('error-summary').waitFor()
        assert.equal(await focusedTestId(page), 'error-summary')
        assert.equal((await page.getByTestId('field-error').first().textContent())?.trim(), MESSAGES.client_name_control_characters)
        assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), typed)
        assert.equal(await page.getByLabel('Redirect URL 1', { exact: true }).inputValue(), REDIRECT)
        await page.goto(`${server.url}/settings/clients`)
        assert.equal(await page.getByTestId('client-row').count(), 0, 'nothing was created')
      }),
  )

  it('refuses a token name with a bidi isolate character next to the field, with the name kept', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, 'ada@example.com', PASSWORD)
      await page.goto(`${server.url}/settings/tokens/new`)
      await page.getByLabel('Name', { exact: true }).fill('CI \u2067script')
      await page.getByRole('button', { name: 'Create token' }).click()
      await page.getByTestId('error-summary').waitFor()
      assert.equal(await focusedTestId(page), 'error-summary')
      assert.equal((await page.getByTestId('field-error').textContent())?.trim(), MESSAGES.token_name_control_characters)
      assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'CI \u2067script')
    }),
  )

  it('a name over the limit is an error next to the field with what was typed, not a generic page', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logIn(page, server.url, 'ada@example.com', PASSWORD)
      const tooLong = 'n'.repeat(1001)
      await page.goto(`${server.url}/settings/clients/new`)
      await page.getByLabel('Name', { exact: true }).fill(tooLong)
      await page.getByLabel('Redirect URL 1', { exact: true }).fill(REDIRECT)
      await page.getByRole('button', { name: 'Create API client' }).click()
      await page.getByTestId('error-summary').waitFor()
      assert.equal((await page.getByTestId('field-error').first().textContent())?.trim(), MESSAGES.client_name_too_long)
      assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), tooLong)

      await page.goto(`${server.url}/settings/tokens/new`)
      await page.getByLabel('Name', { exact: true }).fill(tooLong)
      await page.getByRole('button', { name: 'Create token' }).click()
      await page.getByTestId('error-summary').waitFor()
      assert.equal((await page.getByTestId('field-error').textContent())?.trim(), MESSAGES.token_name_too_long)
      assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), tooLong)
    }),
  )

  it("keeps the consent page's own sentence in reading order around a name with a right-to-left override (bidi isolation)", { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await page.route('https://integrator.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Integrator</title>' }))
      await logIn(page, server.url, 'long@example.com', PASSWORD)
      await page.goto(`${server.url}/oauth/authorize?client_id=${legacyClientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&state=s`)
      await page.getByRole('button', { name: 'Approve' }).waitFor()
      assert.ok(await readInOrder(page, 'h1', ['wants', 'access', 'your', 'account']), '"wants to access your account" reads left to right')

      // The same on a sentence of the portal's own that goes on after the name.
      await page.getByRole('button', { name: 'Approve' }).click()
      await page.waitForURL((url) => url.hostname === 'integrator.example')
      await page.goto(`${server.url}/team/apps/${legacyClientId}/revoke`)
      assert.ok(await readInOrder(page, '[role="note"]', ['holds', 'stops', 'working', 'flow']), 'the revocation warning reads left to right')
    }),
  )

  it('no page scrolls sideways at 1280 px or 390 px with 100-character names of a user, team, client and token', { timeout: 180_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await page.route('https://integrator.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Integrator</title>' }))
      await logIn(page, server.url, 'long@example.com', PASSWORD)
      const authorize = `${server.url}/oauth/authorize?client_id=${longClientId}&redirect_uri=${encodeURIComponent(`${REDIRECT}/${LONG_WORD}`)}&response_type=code&state=s`
      await page.goto(authorize)
      const pages = [
        '/',
        '/settings/clients',
        '/settings/clients/new',
        `/settings/clients/${longClientId}`,
        `/settings/clients/${longClientId}/delete`,
        '/settings/tokens',
        '/settings/tokens/new',
        `/settings/tokens/${longTokenId}/delete`,
        authorize,
      ]
      const wide: string[] = []
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 900 })
        for (const path of pages) {
          await page.goto(path.startsWith('http') ? path : `${server.url}${path}`)
          if (await scrollsSideways(page)) wide.push(`${path} at ${width} px`)
        }
      }
      await page.goto(authorize)
      await page.getByRole('button', { name: 'Approve' }).click()
      await page.waitForURL((url) => url.hostname === 'integrator.example')
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 900 })
        for (const path of ['/team/apps', `/team/apps/${longClientId}/revoke`, '/team/activity']) {
          await page.goto(`${server.url}${path}`)
          if (await scrollsSideways(page)) wide.push(`${path} at ${width} px`)
        }
      }
      assert.deepEqual(wide, [])
    }),
  )
})
