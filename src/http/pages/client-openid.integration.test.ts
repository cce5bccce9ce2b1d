import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { findClient } from '../../clients/clients.js'
import { clientsOfTeam } from '../../clients/access.js'
import { MESSAGES } from '../../messages.js'
import { forEachDialect } from '../../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { escapeHtml, testIdTexts } from '../../testing/html.js'
import { browserFor } from '../../testing/oauth.js'
import { pageHtml, seeOther, submitForm } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const escapeRegExp = (text: string) => escapeHtml(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

await forEachDialect('portal: OpenID Connect logout URLs of an API client', (dialect) => {
  let server: TestServer
  let olive: SeededUser
  let bea: SeededUser

  before(async () => {
    server = await startTestServer(dialect)
    olive = await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive', team: 'Acme' })
    bea = await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Acme', role: 'member' })
  })
  after(() => server.stop())

  it('registers post-logout redirect URLs and a back-channel logout URL from the create form', async () => {
    const browser = await browserFor(server, olive.user)
    const form = await pageHtml(browser, '/settings/clients/new')
    assert.match(form, /<label for="post-logout-redirect-uri-1">Post-logout redirect URL 1<\/label>/)
    assert.match(form, /<label for="backchannel-logout-uri">Back-channel logout URL<\/label>/)
    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: 'Web app',
      redirect_uri: ['https://web.example/callback'],
      post_logout_redirect_uri: ['https://web.example/bye', '', 'http://localhost:3000/bye'],
      backchannel_logout_uri: 'https://web.example/backchannel',
    })
    assert.equal(seeOther(response), '/settings/clients?done=created')
    const created = (await clientsOfTeam(server.ctx.db, olive.team!.id)).find((c) => c.name === 'Web app')
    assert.deepEqual(created?.postLogoutRedirectUris, ['https://web.example/bye', 'http://localhost:3000/bye'])
    assert.equal(created?.backchannelLogoutUri, 'https://web.example/backchannel')
  })

  it('shows each logout URL error next to its field, keeps what was typed, and registers nothing', async () => {
    const browser = await browserFor(server, olive.user)
    const before = (await clientsOfTeam(server.ctx.db, olive.team!.id)).length
    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: 'Refused',
      redirect_uri: ['https://web.example/callback'],
      post_logout_redirect_uri: ['https://web.example/bye', 'http://web.example/bye', 'https://web.example/bye'],
      backchannel_logout_uri: 'https://web.example/bc#frag',
    })
    assert.equal(response.status, 400)
    const html = await response.text()
    assert.match(html, /The API client was not saved/)
    for (const [id, message] of [
      ['post-logout-redirect-uri-2', MESSAGES.redirect_uri_not_https],
      ['post-logout-redirect-uri-3', MESSAGES.redirect_uri_duplicate],
      ['backchannel-logout-uri', MESSAGES.redirect_uri_fragment],
    ] as const) {
      assert.match(html, new RegExp(`id="${id}-error"[^>]*>${escapeRegExp(message)}<`), id)
      assert.match(html, new RegExp(`id="${id}"[^>]*aria-describedby="[^"]*${id}-error"[^>]*aria-invalid="true"`), id)
      assert.match(html, new RegExp(`<a href="#${id}">${escapeRegExp(message)}</a>`), `the summary links to ${id}`)
    }
    assert.doesNotMatch(html, /id="post-logout-redirect-uri-1-error"/)
    assert.doesNotMatch(html, /id="redirect-uri-\d-error"/, 'the redirect URLs were fine')
    assert.match(html, /value="http:\/\/web.example\/bye"/)
    assert.match(html, /value="https:\/\/web.example\/bc#frag"/)
    assert.equal((await clientsOfTeam(server.ctx.db, olive.team!.id)).length, before)
  })

  it("changes a client's logout URLs on its page, keeps the client as it was when refused, and removes them when emptied", async () => {
    const browser = await browserFor(server, olive.user)
    const { client } = await seedClient(server.ctx, olive, { postLogoutRedirectUris: ['https://app.example/bye'] })
    const path = `/settings/clients/${client.id}`
    const page = await pageHtml(browser, path)
    assert.match(page, /id="post-logout-redirect-uri-1"[^>]*value="https:\/\/app.example\/bye"/)

    const refused = await submitForm(browser, path, path, {
      name: client.name,
      redirect_uri: [REDIRECT],
      post_logout_redirect_uri: ['https://app.example/new-bye'],
      backchannel_logout_uri: 'ftp://app.example/bc',
    })
    assert.equal(refused.status, 400)
    const html = await refused.text()
    assert.match(html, new RegExp(`id="backchannel-logout-uri-error"[^>]*>${escapeRegExp(MESSAGES.redirect_uri_not_https)}<`))
    assert.match(html, /value="https:\/\/app.example\/new-bye"/, 'what was typed is kept')
    assert.deepEqual((await findClient(server.ctx.db, client.id))?.postLogoutRedirectUris, ['https://app.example/bye'])

    const saved = await submitForm(browser, path, path, {
      name: client.name,
      redirect_uri: [REDIRECT],
      post_logout_redirect_uri: ['https://app.example/new-bye', ''],
      backchannel_logout_uri: 'https://app.example/bc',
    })
    assert.equal(seeOther(saved), `${path}?done=updated`)
    let stored = await findClient(server.ctx.db, client.id)
    assert.deepEqual(stored?.postLogoutRedirectUris, ['https://app.example/new-bye'])
    assert.equal(stored?.backchannelLogoutUri, 'https://app.example/bc')

    const memberView = await pageHtml(await browserFor(server, bea.user), path)
    assert.deepEqual(testIdTexts(memberView, 'backchannel-logout-uri'), ['https://app.example/bc'], 'a member sees them, read-only')
    assert.doesNotMatch(memberView, /name="post_logout_redirect_uri"/)

    assert.equal(
      seeOther(
        await submitForm(browser, path, path, { name: client.name, redirect_uri: [REDIRECT], post_logout_redirect_uri: [''], backchannel_logout_uri: ' ' }),
      ),
      `${path}?done=updated`,
    )
    stored = await findClient(server.ctx.db, client.id)
    assert.deepEqual(stored?.postLogoutRedirectUris, [])
    assert.equal(stored?.backchannelLogoutUri, null)
  })
})
