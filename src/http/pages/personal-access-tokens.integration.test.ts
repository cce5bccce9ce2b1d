import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { addMember } from '../../accounts/teams.js'
import type { User } from '../../accounts/types.js'
import { activityPage } from '../../activity/list.js'
import { MESSAGES } from '../../messages.js'
import { createPersonalAccessToken, looksLikePersonalAccessToken, personalAccessTokensOf } from '../../tokens/personal-access-tokens.js'
import { forEachDialect } from '../../testing/dialects.js'
import { seedUser } from '../../testing/fixtures.js'
import { formField, testIdTexts } from '../../testing/html.js'
import { HttpClient } from '../../testing/http-client.js'
import { browserFor } from '../../testing/oauth.js'
import { followed, meStatus, pageHtml, postFields, seeOther, submitForm, utcDay } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const DAY_MS = 24 * 3600 * 1000

/** The value shown once on the page the create form redirects to. */
function shownToken(html: string): string {
  const match = /<input id="new-token"[^>]*value="([^"]*)"/.exec(html)
  assert.ok(match, 'the page shows the new token')
  return match[1]!
}

await forEachDialect('portal: personal access tokens', (dialect) => {
  let server: TestServer
  let ada: User
  let bea: User
  let acmeId: number
  let sideId: number

  before(async () => {
    server = await startTestServer(dialect)
    const now = Date.now()
    const created = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Acme', now })
    ada = created.user
    acmeId = created.team!.id
    bea = (await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Acme', now })).user
    // Ada's second team sorts after Acme, so Acme is her active team in a new session.
    sideId = (await seedUser(server.ctx.db, 'sam@example.com', { name: 'Sam', team: 'Side project', now })).team!.id
    await addMember(server.ctx.db, 'Side project', 'ada@example.com', 'member', now)
  })
  after(() => server.stop())

  it('sends a visitor who is not logged in to the login page', async () => {
    for (const path of ['/settings/tokens', '/settings/tokens/new']) {
      const response = await new HttpClient(server.url).get(path)
      assert.equal(response.status, 303)
      assert.equal(response.headers.get('location'), `/login?return_to=${encodeURIComponent(path)}`)
    }
  })

  it('creates a token that is shown once, works on the API, and is listed under Saved without its value (seed 002)', async () => {
    const browser = await browserFor(server, ada)
    const form = await pageHtml(browser, '/settings/tokens/new')
    assert.match(form, /aria-current="page">\+ Create token</)
    assert.match(form, /<label for="token-name">Name<\/label>/)
    assert.match(form, /<label for="token-lifetime">Expires after<\/label>/)
    assert.match(form, /<option value="365" selected>1 year<\/option>/, 'a year by default')
    assert.doesNotMatch(form, /<option value="(?:3[7-9]\d|[4-9]\d\d|\d{4,})"/, 'never more than a year')

    const before = Date.now()
    const created = await followed(
      browser,
      await submitForm(browser, '/settings/tokens/new', '/settings/tokens', { name: 'Nightly export', lifetime_days: '365' }),
    )
    assert.equal(created.status, 200)
    assert.equal(created.headers.get('cache-control'), 'no-store')
    const html = await created.text()
    const token = shownToken(html)
    assert.ok(looksLikePersonalAccessToken(token), `${token} has the gatehouse_pat_ format`)
    assert.deepEqual(testIdTexts(html, 'shown-once'), ['Copy the token now and store it in a safe place. It will not be shown again.'])
    assert.match(html, /data-copy="new-token"/, 'with a copy button')

    assert.equal(await meStatus(server, token), 200)
    await server.ctx.usage.flush()

    const [record] = await personalAccessTokensOf(server.ctx.db, ada.id, acmeId)
    assert.equal(record?.name, 'Nightly export')
    const lifetime = record!.expiresAt.getTime() - record!.createdAt.getTime()
    assert.equal(lifetime, 365 * DAY_MS)
    assert.ok(record!.createdAt.getTime() >= before - 1000)

    const saved = await pageHtml(browser, '/settings/tokens')
    assert.match(saved, /aria-current="page">Saved</)
    assert.ok(!saved.includes(token), 'the value is never shown again')
    const row = testIdTexts(saved, 'token-row').find((r) => r.startsWith('Nightly export'))
    assert.ok(row, 'the Saved list shows the token')
    assert.ok(row.includes(utcDay(record!.createdAt)), `created date in ${row}`)
    assert.ok(row.includes(utcDay(record!.expiresAt)), `expiry date in ${row}`)
    assert.ok(!row.includes('Never'), 'the API call above counts as a use')
    assert.match(row, /UTC.*UTC.*UTC/, 'created, expires and last used are shown in UTC')
  })

  it('shows "Never" for a token that was not used, and the expiry that was picked', async () => {
    const browser = await browserFor(server, ada)
    const created = await followed(browser, await submitForm(browser, '/settings/tokens/new', '/settings/tokens', { name: 'Short lived', lifetime_days: '30' }))
    assert.equal(created.status, 200)
    const record = (await personalAccessTokensOf(server.ctx.db, ada.id, acmeId)).find((t) => t.name === 'Short lived')!
    assert.equal(record.expiresAt.getTime() - record.createdAt.getTime(), 30 * DAY_MS)
    const row = testIdTexts(await pageHtml(browser, '/settings/tokens'), 'token-row').find((r) => r.startsWith('Short lived'))
    assert.match(row ?? '', /Never Delete/)
  })

  it('shows the validation messages next to their fields and creates nothing', async () => {
    const browser = await browserFor(server, ada)
    const count = (await personalAccessTokensOf(server.ctx.db, ada.id, acmeId)).length
    const noName = await submitForm(browser, '/settings/tokens/new', '/settings/tokens', { name: '  ', lifetime_days: '365' })
    assert.equal(noName.status, 400)
    const noNameHtml = await noName.text()
    assert.match(noNameHtml, new RegExp(`id="token-name-error"[^>]*>${MESSAGES.token_name_required}<`))
    assert.doesNotMatch(noNameHtml, /new-token/)

    for (const lifetime of ['366', '0', '-1', 'forever']) {
      const tooLong = await submitForm(browser, '/settings/tokens/new', '/settings/tokens', { name: 'Too long', lifetime_days: lifetime })
      assert.equal(tooLong.status, 400, lifetime)
      const html = await tooLong.text()
      assert.match(html, new RegExp(`id="token-lifetime-error"[^>]*>${MESSAGES.token_lifetime_invalid}<`), lifetime)
      assert.match(html, /value="Too long"/, 'the name typed is kept')
    }
    assert.equal((await personalAccessTokensOf(server.ctx.db, ada.id, acmeId)).length, count)
  })

  it('deletes a token after a confirmation; a green banner confirms and the token is refused at once (seed 002)', async () => {
    const browser = await browserFor(server, ada)
    const created = await followed(browser, await submitForm(browser, '/settings/tokens/new', '/settings/tokens', { name: 'To delete' }))
    const token = shownToken(await created.text())
    assert.equal(await meStatus(server, token), 200)
    const record = (await personalAccessTokensOf(server.ctx.db, ada.id, acmeId)).find((t) => t.name === 'To delete')!

    const saved = await pageHtml(browser, '/settings/tokens')
    assert.match(saved, new RegExp(`<a href="/settings/tokens/${record.id}/delete">Delete<span class="visually-hidden"> <bdi>To delete</bdi></span></a>`))
    const confirm = await pageHtml(browser, `/settings/tokens/${record.id}/delete`)
    assert.match(confirm, /<button type="submit" class="danger">Delete token<\/button>/)
    assert.equal(await meStatus(server, token), 200, 'the confirmation page deletes nothing')

    const forged = await postFields(browser, `/settings/tokens/${record.id}/delete`, { _csrf: 'forged' })
    assert.equal(forged.status, 403)
    assert.equal(await meStatus(server, token), 200)

    const deleted = await postFields(browser, `/settings/tokens/${record.id}/delete`, { _csrf: formField(confirm, '_csrf') })
    assert.equal(seeOther(deleted), '/settings/tokens?done=deleted')
    assert.equal(await meStatus(server, token), 401)
    const after = await pageHtml(browser, '/settings/tokens?done=deleted')
    assert.match(after, /<div class="banner success" role="status" data-testid="success-banner">The token was deleted. It no longer works.<\/div>/)
    assert.ok(!testIdTexts(after, 'token-row').some((r) => r.startsWith('To delete')))
  })

  it('keeps a user away from the tokens of another user (404), and the token keeps working', async () => {
    const { token, record } = await createPersonalAccessToken(server.ctx.db, { userId: bea.id, teamId: acmeId, name: 'Bea only' }, Date.now())
    const browser = await browserFor(server, ada)
    assert.ok(!(await pageHtml(browser, '/settings/tokens')).includes('Bea only'))
    assert.equal((await browser.get(`/settings/tokens/${record.id}/delete`)).status, 404)
    const csrf = formField(await pageHtml(browser, '/settings/tokens'), '_csrf')
    const response = await postFields(browser, `/settings/tokens/${record.id}/delete`, { _csrf: csrf })
    assert.equal(response.status, 404)
    assert.equal(await meStatus(server, token), 200)
  })

  it('binds a new token to the active team and lists it only there', async () => {
    const browser = await browserFor(server, ada)
    const switched = await submitForm(browser, '/', '/team', { team_id: String(sideId), return_to: '/settings/tokens' })
    assert.equal(seeOther(switched), '/settings/tokens')
    const created = await followed(browser, await submitForm(browser, '/settings/tokens/new', '/settings/tokens', { name: 'Side token' }))
    const token = shownToken(await created.text())
    const me = await fetch(new URL('/api/v2/team', server.url), { headers: { authorization: `Bearer ${token}` } })
    assert.equal(((await me.json()) as { id: number }).id, sideId)
    assert.ok((await pageHtml(browser, '/settings/tokens')).includes('Side token'))
    assert.ok(!(await pageHtml(await browserFor(server, ada), '/settings/tokens')).includes('Side token'), 'not in the Acme list')
  })

  it('refuses to create a token without the CSRF token of the session', async () => {
    const browser = await browserFor(server, ada)
    const count = (await personalAccessTokensOf(server.ctx.db, ada.id, acmeId)).length
    const response = await postFields(browser, '/settings/tokens', { name: 'Forged' })
    assert.equal(response.status, 403)
    assert.ok(!(await response.text()).includes('gatehouse_pat_'))
    assert.equal((await personalAccessTokensOf(server.ctx.db, ada.id, acmeId)).length, count)
  })

  it('records the creation and the deletion in the team activity, naming the token but never its value', async () => {
    const browser = await browserFor(server, ada)
    const token = shownToken(await (await followed(browser, await submitForm(browser, '/settings/tokens/new', '/settings/tokens', { name: 'Audited' }))).text())
    const record = (await personalAccessTokensOf(server.ctx.db, ada.id, acmeId)).find((t) => t.name === 'Audited')!
    await postFields(browser, `/settings/tokens/${record.id}/delete`, { _csrf: formField(await pageHtml(browser, '/settings/tokens'), '_csrf') })
    await server.ctx.activity.flush()
    const { items } = await activityPage(server.ctx.db, { teamId: acmeId, personalAccessTokenId: record.id }, undefined, 10)
    assert.deepEqual(
      items.map((i) => [i.action, i.userId, i.detail]),
      [
        ['personal_access_token.deleted', ada.id, 'Audited'],
        ['personal_access_token.created', ada.id, 'Audited'],
      ],
    )
    assert.ok(items.every((i) => i.address !== null))
    assert.ok(!JSON.stringify(items).includes(token))
  })

  it('escapes a token name that is markup', async () => {
    const browser = await browserFor(server, ada)
    const created = await followed(browser, await submitForm(browser, '/settings/tokens/new', '/settings/tokens', { name: '<img src=x onerror=alert(1)>' }))
    assert.ok(!(await created.text()).includes('<img src=x'))
    const saved = await pageHtml(browser, '/settings/tokens')
    assert.ok(!saved.includes('<img src=x'))
    assert.ok(saved.includes('&lt;img src=x onerror=alert(1)&gt;'))
  })
})
