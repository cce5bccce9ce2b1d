import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import type { User } from '../../accounts/types.js'
import { findClient, revealClientSecret, verifyClientSecret } from '../../clients/clients.js'
import { clientsOfTeam } from '../../clients/access.js'
import { MESSAGES } from '../../messages.js'
import { forEachDialect } from '../../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { escapeHtml, formField, testIdTexts } from '../../testing/html.js'
import { HttpClient } from '../../testing/http-client.js'
import { browserFor, codeExchange, codeFor, refreshExchange } from '../../testing/oauth.js'
import { followed, meStatus, pageHtml, postFields, seeOther, submitForm } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

await forEachDialect('portal: API clients', (dialect) => {
  let server: TestServer
  let teamId: number
  let otherTeamId: number
  /** Registers clients in team Acme. */
  let ada: User
  /** A member of Acme who did not register the clients. */
  let bea: User
  /** Owner of Acme. */
  let olive: User
  /** Owner of another team. */
  let mallory: User
  /** Ada in Acme and Mallory in Other, to register clients for. */
  let adaInAcme: SeededUser
  let malloryInOther: SeededUser

  before(async () => {
    server = await startTestServer(dialect)
    const created = await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive Owner', team: 'Acme' })
    olive = created.user
    teamId = created.team!.id
    adaInAcme = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Acme', role: 'member' })
    ada = adaInAcme.user
    bea = (await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Acme', role: 'member' })).user
    malloryInOther = await seedUser(server.ctx.db, 'mallory@example.com', { name: 'Mallory', team: 'Other' })
    mallory = malloryInOther.user
    otherTeamId = malloryInOther.team!.id
  })
  after(() => server.stop())

  /** A client of Acme registered by Ada, straight through the domain. */
  function adasClient(redirectUris = [REDIRECT]) {
    return seedClient(server.ctx, adaInAcme, { redirectUris })
  }

  it('sends a visitor who is not logged in to the login page and back', async () => {
    for (const path of ['/settings/clients', '/settings/clients/new']) {
      const response = await new HttpClient(server.url).get(path)
      assert.equal(response.status, 303)
      assert.equal(response.headers.get('location'), `/login?return_to=${encodeURIComponent(path)}`)
    }
  })

  it('tells a user without a team that the pages need one', async () => {
    const { user } = await seedUser(server.ctx.db, 'nomad@example.com')
    const browser = await browserFor(server, user)
    for (const path of ['/settings/clients', '/settings/clients/new', '/settings/tokens', '/team/apps', '/team/activity']) {
      const response = await browser.get(path)
      assert.equal(response.status, 403, path)
      assert.ok((await response.text()).includes(MESSAGES.no_active_team), path)
    }
  })

  it('links Developer settings, Team apps and Activity from the menu under the user name', async () => {
    const html = await pageHtml(await browserFor(server, ada), '/')
    const menu = /<details class="menu">[\s\S]*?<\/details>/.exec(html)?.[0] ?? ''
    assert.match(menu, /<summary><bdi>Ada<\/bdi><\/summary>/)
    assert.match(menu, /Developer settings/)
    for (const [href, text] of [
      ['/settings/clients', 'API clients'],
      ['/settings/tokens', 'Personal access tokens'],
      ['/team/apps', 'Team apps'],
      ['/team/activity', 'Activity'],
    ]) {
      assert.match(menu, new RegExp(`<a href="${href}">${text}</a>`))
    }
  })

  it('creates an API client from the form, shows its page with the secret once, and lists it with its Client ID on the overview (seed 001)', async () => {
    const browser = await browserFor(server, ada)
    const form = await pageHtml(browser, '/settings/clients/new')
    assert.match(form, /<label for="client-name">Name<\/label>/)
    assert.match(form, /<label for="redirect-uri-1">Redirect URL 1<\/label>/)
    assert.match(form, /RequestBin, Postman Echo/, "the form repeats seed 001's advice about third-party URLs")

    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: '  Invoice Sync  ',
      redirect_uri: ['https://sync.example/callback', '', 'http://127.0.0.1:8080/cb'],
    })
    const landing = seeOther(response)

    const registered = (await clientsOfTeam(server.ctx.db, teamId)).find((c) => c.name === 'Invoice Sync')
    assert.ok(registered, 'the client is registered in the active team')
    assert.match(landing, new RegExp(`^/settings/clients/${registered.id}\\?shown=[\\w-]+&done=created$`))
    const page = await pageHtml(browser, landing)
    assert.match(testIdTexts(page, 'success-banner')[0] ?? '', /API client was created/)
    assert.equal((await verifyClientSecret(server.ctx.db, server.ctx.keys, registered.id, testIdTexts(page, 'client-secret')[0] ?? ''))?.id, registered.id)
    assert.deepEqual(testIdTexts(await pageHtml(browser, landing), 'client-secret'), [], 'shown once')
    assert.deepEqual(registered.redirectUris, ['https://sync.example/callback', 'http://127.0.0.1:8080/cb'])
    assert.equal(registered.ownerUserId, ada.id)

    const overview = await pageHtml(browser, '/settings/clients?done=created')
    assert.match(testIdTexts(overview, 'success-banner')[0] ?? '', /API client was created/)
    const row = testIdTexts(overview, 'client-row').find((r) => r.includes('Invoice Sync'))
    assert.ok(row, 'the overview lists the new client')
    assert.ok(row.includes(registered.id), 'with its Client ID')
    assert.match(
      overview,
      new RegExp(`<code id="client-id-\\d+" class="truncate" data-testid="client-id" title="${registered.id}">`),
      'cut short, whole on hover',
    )
  })

  it('creates a public client (single-page or mobile app, PKCE required) when the form says so, and refuses a kind it does not offer', async () => {
    const browser = await browserFor(server, ada)
    const form = await pageHtml(browser, '/settings/clients/new')
    assert.match(form, /<input id="kind-confidential" name="kind" type="radio" value="confidential" checked>/)
    assert.match(form, /<input id="kind-public" name="kind" type="radio" value="public">/)
    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: 'Phone app',
      redirect_uri: ['https://phone.example/callback'],
      kind: 'public',
    })
    const registered = (await clientsOfTeam(server.ctx.db, teamId)).find((c) => c.name === 'Phone app')
    assert.ok(registered)
    assert.equal(registered.isConfidential, false)
    assert.equal(registered.isFirstParty, false)
    assert.equal(seeOther(response), `/settings/clients/${registered.id}?done=created`)
    const page = await pageHtml(browser, seeOther(response))
    assert.match(page, /None: this is a public client, which uses PKCE instead of a secret\./)
    assert.match(testIdTexts(page, 'code-exchange')[0] ?? '', /-d code_verifier=YOUR_PKCE_VERIFIER/)

    const before = (await clientsOfTeam(server.ctx.db, teamId)).length
    const refused = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: 'First-party by the back door',
      redirect_uri: ['https://phone.example/callback'],
      kind: 'first_party',
    })
    assert.equal(refused.status, 400)
    assert.match(await refused.text(), new RegExp(escapeHtml(MESSAGES.client_type_unknown)))
    assert.equal((await clientsOfTeam(server.ctx.db, teamId)).length, before)
  })

  it('shows each validation message next to its field and registers nothing', async () => {
    const browser = await browserFor(server, ada)
    const before = (await clientsOfTeam(server.ctx.db, teamId)).length
    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: '   ',
      redirect_uri: ['http://app.example/cb', 'https://app.example/cb#top', 'not-a-url', 'https://app.example/ok', 'https://app.example/ok'],
    })
    assert.equal(response.status, 400)
    const html = await response.text()
    assert.match(html, /role="alert"[^>]*>\s*<p><strong>The API client was not saved/)
    assert.match(html, new RegExp(`id="client-name-error"[^>]*>${escapeRegExp(MESSAGES.client_name_required)}<`))
    const expected: [number, string][] = [
      [1, MESSAGES.redirect_uri_not_https],
      [2, MESSAGES.redirect_uri_fragment],
      [3, MESSAGES.redirect_uri_invalid],
      [5, MESSAGES.redirect_uri_duplicate],
    ]
    for (const [n, message] of expected) {
      assert.match(html, new RegExp(`id="redirect-uri-${n}-error"[^>]*>${escapeRegExp(message)}<`), `message for row ${n}`)
      assert.match(html, new RegExp(`id="redirect-uri-${n}"[^>]*aria-describedby="[^"]*redirect-uri-${n}-error"[^>]*aria-invalid="true"`))
    }
    assert.doesNotMatch(html, /id="redirect-uri-4-error"/, 'the first of two equal URLs is fine')
    assert.match(html, /value="https:\/\/app.example\/cb#top"/, 'what the person typed is kept')
    assert.equal((await clientsOfTeam(server.ctx.db, teamId)).length, before)
  })

  it('refuses redirect URLs that could be misread (control characters, no host, not as the URL parser writes them) and registers nothing (RFC 9700 §4.1.3)', async () => {
    const browser = await browserFor(server, ada)
    const before = (await clientsOfTeam(server.ctx.db, teamId)).length
    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: 'Misread',
      redirect_uri: ['https://ap\tp.example/cb', 'https://app.example/c\r\nSet-Cookie: x=1', 'https:///cb', 'https://APP.example/cb'],
    })
    assert.equal(response.status, 400)
    const html = await response.text()
    const expected: [number, string][] = [
      [1, MESSAGES.redirect_uri_unsafe_characters],
      [2, MESSAGES.redirect_uri_unsafe_characters],
      [3, MESSAGES.redirect_uri_no_host],
      [4, MESSAGES.redirect_uri_not_canonical],
    ]
    for (const [n, message] of expected) {
      assert.match(html, new RegExp(`id="redirect-uri-${n}-error"[^>]*>${escapeRegExp(message)}<`), `message for row ${n}`)
    }
    assert.equal((await clientsOfTeam(server.ctx.db, teamId)).length, before)
  })

  it('asks for at least one redirect URL', async () => {
    const browser = await browserFor(server, ada)
    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', { name: 'No URLs', redirect_uri: ['', ' '] })
    assert.equal(response.status, 400)
    assert.match(await response.text(), new RegExp(`id="redirect-uri-1-error"[^>]*>${escapeRegExp(MESSAGES.redirect_uri_required)}<`))
  })

  it('warns about redirect URLs on request-inspection services, on the form and on the client page (seed 001)', async () => {
    const browser = await browserFor(server, ada)
    const refused = await submitForm(browser, '/settings/clients/new', '/settings/clients', { name: '', redirect_uri: ['https://webhook.site/3f1c'] })
    assert.equal(refused.status, 400)
    assert.match(await refused.text(), /id="redirect-uri-1-warning"[^>]*>⚠️ This URL is on a third-party request-inspection service/)

    for (const uri of [
      'https://webhook.site/3f1c',
      'https://httpbin.org/get',
      'https://postman-echo.com/get',
      'https://eo1.m.pipedream.net/',
      'https://abc.requestbin.com/x',
    ]) {
      const { client } = await adasClient([uri, REDIRECT])
      const html = await pageHtml(browser, `/settings/clients/${client.id}`)
      assert.equal(testIdTexts(html, 'inspection-warning').length, 1, uri)
      assert.match(html, /id="redirect-uri-1-warning"/, `the edit form marks ${uri}`)
      assert.doesNotMatch(html, /id="redirect-uri-2-warning"/, "and not the application's own URL")
    }
    const { client } = await adasClient()
    assert.equal(testIdTexts(await pageHtml(browser, `/settings/clients/${client.id}`), 'inspection-warning').length, 0)
  })

  it('escapes a client name that is markup, everywhere it is shown', async () => {
    const browser = await browserFor(server, ada)
    const name = '<script>alert("pwned")</script>'
    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', { name, redirect_uri: REDIRECT })
    seeOther(response)
    const client = (await clientsOfTeam(server.ctx.db, teamId)).find((c) => c.name === name)!
    for (const path of ['/settings/clients', `/settings/clients/${client.id}`, `/settings/clients/${client.id}/delete`]) {
      const html = await pageHtml(browser, path)
      assert.ok(!html.includes('<script>alert'), `${path} contains the markup unescaped`)
      assert.ok(html.includes('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;'), `${path} shows the name as text`)
    }
  })

  it('hides the Client secret until the owner reveals it, with a CSRF-checked POST', async () => {
    const browser = await browserFor(server, ada)
    const { client, secret } = await adasClient()
    const html = await pageHtml(browser, `/settings/clients/${client.id}`)
    assert.deepEqual(testIdTexts(html, 'client-id'), [client.id])
    assert.ok(!html.includes(secret), 'the page does not carry the secret before it is revealed')
    assert.equal(testIdTexts(html, 'client-secret-hidden').length, 1)

    const forged = await postFields(browser, `/settings/clients/${client.id}/secret`, { _csrf: 'forged' })
    assert.equal(forged.status, 403)
    assert.ok(!(await forged.text()).includes(secret))

    const revealed = await followed(browser, await submitForm(browser, `/settings/clients/${client.id}`, `/settings/clients/${client.id}/secret`))
    assert.equal(revealed.status, 200)
    assert.equal(revealed.headers.get('cache-control'), 'no-store')
    assert.deepEqual(testIdTexts(await revealed.text(), 'client-secret'), [secret])
  })

  it('lets an owner of the team reveal the secret of a client a member registered', async () => {
    const { client, secret } = await adasClient()
    const owner = await browserFor(server, olive)
    const revealed = await followed(owner, await submitForm(owner, `/settings/clients/${client.id}`, `/settings/clients/${client.id}/secret`))
    assert.equal(revealed.status, 200)
    assert.deepEqual(testIdTexts(await revealed.text(), 'client-secret'), [secret])
  })

  it('shows another member the client but answers 403 to anything that reveals or changes it', async () => {
    const { client, secret } = await adasClient()
    const browser = await browserFor(server, bea)
    const html = await pageHtml(browser, `/settings/clients/${client.id}`)
    assert.deepEqual(testIdTexts(html, 'client-id'), [client.id])
    assert.doesNotMatch(html, /Reveal secret|Save changes|Regenerate secret|Delete this API client/)
    const csrf = formField(html, '_csrf')

    const attempts: [string, Record<string, string | string[]>][] = [
      [`/settings/clients/${client.id}/secret`, {}],
      [`/settings/clients/${client.id}`, { name: 'Taken over', redirect_uri: 'https://evil.example/cb' }],
      [`/settings/clients/${client.id}/regenerate`, {}],
      [`/settings/clients/${client.id}/delete`, {}],
    ]
    for (const [action, fields] of attempts) {
      const response = await postFields(browser, action, { ...fields, _csrf: csrf })
      assert.equal(response.status, 403, action)
      const text = await response.text()
      assert.ok(text.includes(escapeHtml(MESSAGES.client_forbidden)), `${action} explains the refusal`)
      assert.ok(!text.includes(secret))
    }
    for (const path of [`/settings/clients/${client.id}/regenerate`, `/settings/clients/${client.id}/delete`]) {
      assert.equal((await browser.get(path)).status, 403, path)
    }
    const unchanged = await findClient(server.ctx.db, client.id)
    assert.equal(unchanged?.name, client.name)
    assert.equal(await revealClientSecret(server.ctx.db, server.ctx.keys, client.id), secret)
  })

  it('never shows or accepts a client of another team (404)', async () => {
    const { client, secret } = await adasClient()
    const browser = await browserFor(server, mallory)
    const overview = await pageHtml(browser, '/settings/clients')
    assert.ok(!overview.includes(client.id))
    for (const path of [`/settings/clients/${client.id}`, `/settings/clients/${client.id}/regenerate`, `/settings/clients/${client.id}/delete`]) {
      const response = await browser.get(path)
      assert.equal(response.status, 404, path)
      const text = await response.text()
      assert.ok(!text.includes(client.name), `${path} names the client`)
    }
    const csrf = formField(overview, '_csrf')
    for (const action of [
      `/settings/clients/${client.id}/secret`,
      `/settings/clients/${client.id}`,
      `/settings/clients/${client.id}/regenerate`,
      `/settings/clients/${client.id}/delete`,
    ]) {
      const response = await postFields(browser, action, { _csrf: csrf, name: 'Mine now', redirect_uri: REDIRECT })
      assert.equal(response.status, 404, action)
      assert.ok(!(await response.text()).includes(secret))
    }
    assert.equal((await findClient(server.ctx.db, client.id))?.name, client.name)
    assert.equal((await clientsOfTeam(server.ctx.db, otherTeamId)).length, 0)
  })

  it('lists only the clients of the active team', async () => {
    const { client } = await seedClient(server.ctx, malloryInOther, { name: 'Other team app' })
    const adaList = await pageHtml(await browserFor(server, ada), '/settings/clients')
    assert.ok(!adaList.includes(client.id))
    const malloryList = await pageHtml(await browserFor(server, mallory), '/settings/clients')
    assert.ok(malloryList.includes(client.id))
  })

  it('changes the name and redirect URLs, and keeps the client as it was when the change is refused', async () => {
    const browser = await browserFor(server, ada)
    const { client } = await adasClient()
    const refused = await submitForm(browser, `/settings/clients/${client.id}`, `/settings/clients/${client.id}`, {
      name: 'Renamed',
      redirect_uri: ['ftp://app.example/cb'],
    })
    assert.equal(refused.status, 400)
    assert.match(await refused.text(), new RegExp(`id="redirect-uri-1-error"[^>]*>${escapeRegExp(MESSAGES.redirect_uri_not_https)}<`))
    assert.equal((await findClient(server.ctx.db, client.id))?.name, client.name)

    const saved = await submitForm(browser, `/settings/clients/${client.id}`, `/settings/clients/${client.id}`, {
      name: 'Renamed',
      redirect_uri: ['https://new.example/cb', '', 'http://localhost:3000/cb'],
    })
    assert.equal(seeOther(saved), `/settings/clients/${client.id}?done=updated`)
    const updated = await findClient(server.ctx.db, client.id)
    assert.equal(updated?.name, 'Renamed')
    assert.deepEqual(updated?.redirectUris, ['https://new.example/cb', 'http://localhost:3000/cb'])
    const html = await pageHtml(browser, `/settings/clients/${client.id}?done=updated`)
    assert.deepEqual(testIdTexts(html, 'success-banner'), ['The changes were saved.'])
    assert.deepEqual(testIdTexts(html, 'client-name'), ['Renamed'])
  })

  it('shows a banner only for the codes it knows, never words from the address', async () => {
    const html = await pageHtml(await browserFor(server, ada), '/settings/clients?done=%3Cb%3Ehi%3C%2Fb%3E')
    assert.equal(testIdTexts(html, 'success-banner').length, 0)
    assert.ok(!html.includes('<b>hi'))
  })

  it('regenerates the secret after a confirmation: the old one stops working at once', async () => {
    const browser = await browserFor(server, ada)
    const { client, secret: oldSecret } = await adasClient()
    const confirm = await pageHtml(browser, `/settings/clients/${client.id}/regenerate`)
    assert.match(confirm, new RegExp(`<form method="post" action="/settings/clients/${client.id}/regenerate"`))
    assert.match(confirm, /stops working at once/)
    assert.equal(await revealClientSecret(server.ctx.db, server.ctx.keys, client.id), oldSecret, 'the confirmation page changes nothing')

    const forged = await postFields(browser, `/settings/clients/${client.id}/regenerate`, { _csrf: 'nope' })
    assert.equal(forged.status, 403)
    assert.equal(await revealClientSecret(server.ctx.db, server.ctx.keys, client.id), oldSecret)

    const done = await postFields(browser, `/settings/clients/${client.id}/regenerate`, { _csrf: formField(confirm, '_csrf') })
    const shownAt = seeOther(done)
    assert.match(shownAt, new RegExp(`^/settings/clients/${client.id}\\?shown=[\\w-]+&done=regenerated$`))
    const newSecret = await revealClientSecret(server.ctx.db, server.ctx.keys, client.id)
    assert.notEqual(newSecret, oldSecret)
    const shown = await pageHtml(browser, shownAt)
    assert.match(testIdTexts(shown, 'success-banner')[0] ?? '', /old one no longer works/)
    assert.deepEqual(testIdTexts(shown, 'client-secret'), [newSecret], 'the new secret is shown at once')
    assert.deepEqual(testIdTexts(await pageHtml(browser, shownAt), 'client-secret'), [], 'and only once')

    const code = await codeFor(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' })
    const withOld = await codeExchange(server, { id: client.id, secret: oldSecret! }, code)
    assert.equal(withOld.response.status, 401)
    assert.equal(withOld.body.error, 'invalid_client')
    const withNew = await codeExchange(server, { id: client.id, secret: newSecret! }, code)
    assert.equal(withNew.response.status, 200, JSON.stringify(withNew.body))
  })

  it("records the client's changes in the team's activity log, with its name and never its secret", async () => {
    const browser = await browserFor(server, ada)
    const { client, secret } = await adasClient()
    const page = await pageHtml(browser, `/settings/clients/${client.id}`)
    const csrf = formField(page, '_csrf')
    assert.match(seeOther(await postFields(browser, `/settings/clients/${client.id}/secret`, { _csrf: csrf })), /\?shown=/)
    assert.match(seeOther(await postFields(browser, `/settings/clients/${client.id}/regenerate`, { _csrf: csrf })), /&done=regenerated$/)
    assert.equal(seeOther(await postFields(browser, `/settings/clients/${client.id}/delete`, { _csrf: csrf })), '/settings/clients?done=deleted')
    await server.ctx.activity.flush()
    const entries = await server.ctx.db.kysely.selectFrom('activities').selectAll().where('client_id', '=', client.id).orderBy('id').execute()
    assert.deepEqual(
      entries.map((e) => [e.action, e.user_id, e.team_id, e.detail]),
      [
        ['client.secret_revealed', ada.id, teamId, client.name],
        ['client.secret_regenerated', ada.id, teamId, client.name],
        ['client.deleted', ada.id, teamId, client.name],
      ],
    )
    assert.ok(!JSON.stringify(entries).includes(secret))
  })

  it('deletes a client after a confirmation: its tokens stop working and the overview confirms', async () => {
    const browser = await browserFor(server, ada)
    const { client, secret } = await adasClient()
    const code = await codeFor(browser, { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code' })
    const tokens = await codeExchange(server, { id: client.id, secret }, code)
    const accessToken = String(tokens.body.access_token)
    assert.equal(await meStatus(server, accessToken), 200)

    const confirm = await pageHtml(browser, `/settings/clients/${client.id}/delete`)
    assert.match(confirm, /Every access and refresh token it holds stops working/)
    assert.ok(await findClient(server.ctx.db, client.id), 'the confirmation page deletes nothing')

    const forged = await new HttpClient(server.url).postForm(`/settings/clients/${client.id}/delete`, { _csrf: formField(confirm, '_csrf') })
    assert.equal(forged.status, 303, 'a request without the session is sent to log in')
    assert.match(forged.headers.get('location') ?? '', /^\/login/)
    const noToken = await postFields(browser, `/settings/clients/${client.id}/delete`, {})
    assert.equal(noToken.status, 403)
    assert.ok(await findClient(server.ctx.db, client.id))

    const done = await postFields(browser, `/settings/clients/${client.id}/delete`, { _csrf: formField(confirm, '_csrf') })
    assert.equal(seeOther(done), '/settings/clients?done=deleted')
    assert.equal(await findClient(server.ctx.db, client.id), undefined)
    assert.equal(await meStatus(server, accessToken), 401)
    const refreshed = await refreshExchange(server, { id: client.id, secret }, String(tokens.body.refresh_token))
    assert.equal(refreshed.response.status, 401)
    const overview = await pageHtml(browser, '/settings/clients?done=deleted')
    assert.match(testIdTexts(overview, 'success-banner')[0] ?? '', /API client was deleted/)
    assert.ok(!overview.includes(client.id))
    // Its page, opened again (the back button, a second tab), says it is gone rather than that it never was.
    const gone = await browser.get(`/settings/clients/${client.id}`)
    assert.equal(gone.status, 410)
    assert.match(testIdTexts(await gone.text(), 'already-deleted')[0] ?? '', /was already deleted/)
  })

  it('refuses a create without the CSRF token of the session', async () => {
    const browser = await browserFor(server, ada)
    const before = (await clientsOfTeam(server.ctx.db, teamId)).length
    const otherSession = formField(await pageHtml(await browserFor(server, ada), '/settings/clients/new'), '_csrf')
    for (const csrf of [undefined, '', otherSession]) {
      const fields: Record<string, string> = { name: 'Forged', redirect_uri: REDIRECT }
      if (csrf !== undefined) fields._csrf = csrf
      const response = await postFields(browser, '/settings/clients', fields)
      assert.equal(response.status, 403)
      assert.match(await response.text(), new RegExp(escapeRegExp(MESSAGES.csrf_failed)))
    }
    assert.equal((await clientsOfTeam(server.ctx.db, teamId)).length, before)
  })

  it('serves its pages with the portal layout, the script from this host, and no inline script', async () => {
    const browser = await browserFor(server, ada)
    const { client } = await adasClient()
    for (const path of ['/settings/clients', '/settings/clients/new', `/settings/clients/${client.id}`]) {
      const response = await browser.get(path)
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/)
      const html = await response.text()
      assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
      assert.deepEqual(
        [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]),
        ['<script src="/assets/portal.js" defer>'],
      )
      assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i)
      assert.doesNotMatch(html, /(?:src|href)="(?:https?:)?\/\//, 'no asset from another host')
    }
    const script = await browser.get('/assets/portal.js')
    assert.equal(script.status, 200)
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/)
  })
})

function escapeRegExp(text: string): string {
  return escapeHtml(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
