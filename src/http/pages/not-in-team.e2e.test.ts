import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { addMember } from '../../accounts/teams.js'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, REDIRECT, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { authorize, browserFor } from '../../testing/oauth.js'
import type { TestServer } from '../../testing/server.js'
import { createPersonalAccessToken } from '../../tokens/personal-access-tokens.js'

const skip = browserSkipReason()

/** The status and the visible text of the main part of a page, as a person would compare two answers. */
async function answer(page: Page, url: string): Promise<{ status: number; text: string }> {
  const response = await page.goto(url)
  return { status: response?.status() ?? 0, text: ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ').trim() }
}

async function activeTeam(page: Page): Promise<string | null> {
  return page.getByRole('banner').getByLabel('Team').locator('option:checked').textContent()
}

describe('a client, token or app of another team, or one already deleted, in a browser', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  /** Owner of Analytical Engines, member of Difference Engines (active team at login: Analytical Engines). */
  let ada: SeededUser
  /** Owner of Difference Engines. */
  let charles: SeededUser
  /** Owner of Bea Labs, in none of Ada's teams. */
  let bea: SeededUser

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Analytical Engines' })
      charles = await seedUser(server.ctx.db, 'charles@example.com', { name: 'Charles', team: 'Difference Engines' })
      bea = await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Bea Labs' })
      await addMember(server.ctx.db, 'Difference Engines', ada.user.email, 'owner', Date.now())
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it("opening a client of another of the user's teams says whose it is; the switch (a form with CSRF) leads back to the client", { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const { id } = await seedClient(server.ctx, charles, { name: 'Engine Reporter' })
      await logIn(page, server.url, ada.user.email, PASSWORD)
      assert.equal(await activeTeam(page), 'Analytical Engines')
      const response = await page.goto(`${server.url}/settings/clients/${id}`)
      const notice = page.getByTestId('in-another-team')
      await notice.waitFor()
      assert.equal(response?.status(), 409)
      assert.match(
        (await notice.textContent()) ?? '',
        /The API client Engine Reporter belongs to the team Difference Engines\. You are working in Analytical Engines\./,
      )
      const form = notice.locator('form[method="post"][action="/team"]')
      assert.ok(((await form.locator('input[name="_csrf"]').inputValue()) ?? '').length > 10, 'the switch carries the CSRF token')
      await notice.getByRole('button', { name: 'Switch to Difference Engines' }).click()
      await page.getByTestId('client-id').waitFor()
      assert.equal(new URL(page.url()).pathname, `/settings/clients/${id}`)
      assert.equal((await page.getByTestId('client-id').textContent())?.trim(), id)
      assert.equal(await activeTeam(page), 'Difference Engines')
    }),
  )

  it('a client of a team the user is not in is a plain 404, the same as an id that never existed', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const { id } = await seedClient(server.ctx, bea, { name: 'Secret Project' })
      await logIn(page, server.url, ada.user.email, PASSWORD)
      const theirs = await answer(page, `${server.url}/settings/clients/${id}`)
      const none = await answer(page, `${server.url}/settings/clients/00000000-0000-4000-8000-000000000000`)
      assert.equal(theirs.status, 404)
      assert.deepEqual(theirs, none)
      assert.ok(!theirs.text.includes('Secret Project') && !theirs.text.includes('Bea Labs'))
      assert.equal((await answer(page, `${server.url}/settings/clients/${id}/delete`)).text, none.text)
    }),
  )

  it("a token of another of the user's teams says whose it is and offers the switch; another user's token is a plain 404", { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const now = Date.now()
      const { record } = await createPersonalAccessToken(
        server.ctx.db,
        { userId: ada.user.id, teamId: charles.team!.id, name: 'Engine token', lifetimeDays: 30 },
        now,
      )
      const other = await createPersonalAccessToken(server.ctx.db, { userId: bea.user.id, teamId: bea.team!.id, name: 'Bea token', lifetimeDays: 30 }, now)
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await page.goto(`${server.url}/settings/tokens/${record.id}/delete`)
      const notice = page.getByTestId('in-another-team')
      assert.match((await notice.textContent()) ?? '', /The personal access token Engine token belongs to the team Difference Engines\./)
      await notice.getByRole('button', { name: 'Switch to Difference Engines' }).click()
      await page.getByRole('button', { name: 'Delete token' }).waitFor()
      assert.equal(new URL(page.url()).pathname, `/settings/tokens/${record.id}/delete`)

      const theirs = await answer(page, `${server.url}/settings/tokens/${other.record.id}/delete`)
      const none = await answer(page, `${server.url}/settings/tokens/no-such-token/delete`)
      assert.equal(theirs.status, 404)
      assert.deepEqual(theirs, none)
    }),
  )

  it("an app another of the user's teams authorised says whose it is and offers the switch to its Revoke page", { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const { id } = await seedClient(server.ctx, charles, { name: 'Workflow Bot' })
      await authorize(await browserFor(server, charles.user), { client_id: id, redirect_uri: REDIRECT, response_type: 'code' })
      await logIn(page, server.url, ada.user.email, PASSWORD)
      await page.goto(`${server.url}/team/apps/${id}/revoke`)
      const notice = page.getByTestId('in-another-team')
      assert.match((await notice.textContent()) ?? '', /The app Workflow Bot belongs to the team Difference Engines\./)
      await notice.getByRole('button', { name: 'Switch to Difference Engines' }).click()
      await page.getByRole('button', { name: 'Revoke access' }).waitFor()
      assert.equal(new URL(page.url()).pathname, `/team/apps/${id}/revoke`)
    }),
  )

  it('deleting the same token again from a second tab says it was already deleted and links to the saved tokens', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page, context) => {
      const { record } = await createPersonalAccessToken(
        server.ctx.db,
        { userId: ada.user.id, teamId: ada.team!.id, name: 'CI script', lifetimeDays: 30 },
        Date.now(),
      )
      await logIn(page, server.url, ada.user.email, PASSWORD)
      const second = await context.newPage()
      for (const tab of [page, second]) await tab.goto(`${server.url}/settings/tokens/${record.id}/delete`)
      await page.getByRole('button', { name: 'Delete token' }).click()
      await page.getByTestId('success-banner').waitFor()

      await second.getByRole('button', { name: 'Delete token' }).click()
      const notice = second.getByTestId('already-deleted')
      await notice.waitFor()
      assert.match((await notice.textContent()) ?? '', /The personal access token CI script was already deleted, on \d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d UTC\./)
      await second.getByRole('link', { name: 'Go to your saved tokens' }).click()
      await second.getByRole('heading', { name: 'Personal access tokens', exact: true }).waitFor()
      assert.equal(new URL(second.url()).pathname, '/settings/tokens')

      // The back button to the confirmation page says the same.
      await page.goBack()
      await page.reload()
      await page.getByTestId('already-deleted').waitFor()
    }),
  )

  it('revoking an app again from a second tab says it was already revoked and links to Team apps', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page, context) => {
      const { id } = await seedClient(server.ctx, ada, { name: 'Sheets Sync' })
      await authorize(await browserFor(server, ada.user), { client_id: id, redirect_uri: REDIRECT, response_type: 'code' })
      await logIn(page, server.url, ada.user.email, PASSWORD)
      const second = await context.newPage()
      for (const tab of [page, second]) await tab.goto(`${server.url}/team/apps/${id}/revoke`)
      await page.getByRole('button', { name: 'Revoke access' }).click()
      await page.getByTestId('success-banner').waitFor()

      await second.getByRole('button', { name: 'Revoke access' }).click()
      const notice = second.getByTestId('already-deleted')
      await notice.waitFor()
      assert.equal(await second.getByRole('heading', { name: 'Already revoked' }).count(), 1)
      assert.match((await notice.textContent()) ?? '', /The app Sheets Sync was already revoked, on /)
      await second.getByRole('link', { name: 'Go to Team apps' }).click()
      await second.getByRole('heading', { name: 'Team apps', exact: true }).waitFor()
    }),
  )

  it(
    'opening a deleted client says it was already deleted and links to the API clients; for someone outside the team it is a plain 404',
    { timeout: 60_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        const { id } = await seedClient(server.ctx, ada, { name: 'Retired App' })
        await logIn(page, server.url, ada.user.email, PASSWORD)
        await page.goto(`${server.url}/settings/clients/${id}`)
        const before = page.url()
        await page.goto(`${server.url}/settings/clients/${id}/delete`)
        await page.getByRole('button', { name: 'Delete API client' }).click()
        await page.getByTestId('success-banner').waitFor()
        const response = await page.goto(before)
        assert.equal(response?.status(), 410)
        const notice = page.getByTestId('already-deleted')
        assert.match((await notice.textContent()) ?? '', /The API client Retired App was already deleted/)
        await page.getByRole('link', { name: 'Go to your API clients' }).click()
        await page.getByRole('heading', { name: 'API clients', exact: true }).waitFor()

        await page.context().clearCookies()
        await logIn(page, server.url, bea.user.email, PASSWORD)
        const outsider = await answer(page, before)
        const none = await answer(page, `${server.url}/settings/clients/00000000-0000-4000-8000-000000000000`)
        assert.equal(outsider.status, 404)
        assert.deepEqual(outsider, none)
      }),
  )
})
