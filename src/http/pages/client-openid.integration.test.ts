import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { activityPage } from '../../activity/list.js'
import { findClient } from '../../clients/clients.js'
import { clientsOfTeam } from '../../clients/access.js'
import { MESSAGES } from '../../messages.js'
import { forEachDialect } from '../../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { escapeHtml, formField, testIdTexts } from '../../testing/html.js'
import { browserFor } from '../../testing/oauth.js'
import { pageHtml, postFields, seeOther, submitForm } from '../../testing/portal.js'
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
    assert.match(seeOther(response), /^\/settings\/clients\/[0-9a-f-]{36}\?shown=[\w-]+&done=created$/)
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

  it('refuses a back-channel logout URL on an internal host from a team member: Gatehouse itself POSTs there (OWASP A10:2021, SSRF)', async () => {
    const browser = await browserFor(server, bea.user)
    const before = (await clientsOfTeam(server.ctx.db, bea.team!.id)).length
    for (const uri of [
      'http://127.0.0.1:4745/admin/shutdown',
      'https://169.254.169.254/latest/meta-data/iam',
      'https://10.0.0.5/internal',
      'http://localhost:4745/x',
      'https://localhost./bc',
      'https://[::1]/bc',
      'https://[fd00:ec2::254]/latest/meta-data',
    ]) {
      const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
        name: 'Probe',
        redirect_uri: ['https://web.example/callback'],
        backchannel_logout_uri: uri,
      })
      assert.equal(response.status, 400, uri)
      const html = await response.text()
      assert.match(html, new RegExp(`id="backchannel-logout-uri-error"[^>]*>${escapeRegExp(MESSAGES.backchannel_logout_uri_not_public)}<`), uri)
      assert.match(html, new RegExp(`<a href="#backchannel-logout-uri">${escapeRegExp(MESSAGES.backchannel_logout_uri_not_public)}</a>`), uri)
    }
    assert.equal((await clientsOfTeam(server.ctx.db, bea.team!.id)).length, before, 'nothing registered')
  })

  it('refuses an internal back-channel URL on the client page, but keeps one the operator set while the rest changes', async () => {
    const browser = await browserFor(server, olive.user)
    const { client } = await seedClient(server.ctx, olive, { backchannelLogoutUri: 'http://127.0.0.1:9000/bc' })
    const path = `/settings/clients/${client.id}`
    const refused = await submitForm(browser, path, path, {
      name: client.name,
      redirect_uri: [REDIRECT],
      backchannel_logout_uri: 'https://192.168.1.10/bc',
    })
    assert.equal(refused.status, 400)
    assert.match(await refused.text(), new RegExp(`id="backchannel-logout-uri-error"[^>]*>${escapeRegExp(MESSAGES.backchannel_logout_uri_not_public)}<`))
    assert.equal((await findClient(server.ctx.db, client.id))?.backchannelLogoutUri, 'http://127.0.0.1:9000/bc')

    const renamed = await submitForm(browser, path, path, { name: 'Renamed', redirect_uri: [REDIRECT], backchannel_logout_uri: 'http://127.0.0.1:9000/bc' })
    assert.equal(seeOther(renamed), `${path}?done=updated`)
    const stored = await findClient(server.ctx.db, client.id)
    assert.equal(stored?.name, 'Renamed')
    assert.equal(stored?.backchannelLogoutUri, 'http://127.0.0.1:9000/bc')
  })

  it("offers the consent-page switch on a first-party client's page to its managers, shows members its state, and records every change", async () => {
    const { client } = await seedClient(server.ctx, olive, { isFirstParty: true, name: 'Our web app' })
    const path = `/settings/clients/${client.id}`
    const browser = await browserFor(server, olive.user)
    let page = await pageHtml(browser, path)
    assert.match(testIdTexts(page, 'skip-consent-state')[0] ?? '', /^Shown/)
    assert.match(page, /Sign users in without the consent page/)

    const on = await submitForm(browser, path, `${path}/skip-consent`, { skip_consent: 'on' })
    assert.equal(seeOther(on), `${path}?done=consent_skipped`)
    assert.equal((await findClient(server.ctx.db, client.id))?.skipConsent, true)
    page = await pageHtml(browser, `${path}?done=consent_skipped`)
    assert.match(testIdTexts(page, 'skip-consent-state')[0] ?? '', /^Skipped/)
    assert.match(page, /Ask users to approve this app again/)

    const member = await browserFor(server, bea.user)
    const memberPage = await pageHtml(member, path)
    assert.match(testIdTexts(memberPage, 'skip-consent-state')[0] ?? '', /^Skipped/, 'a member sees the state')
    assert.doesNotMatch(memberPage, /skip-consent"/, 'but not the switch')
    const refused = await postFields(member, `${path}/skip-consent`, { skip_consent: 'off', _csrf: formField(memberPage, '_csrf') })
    assert.equal(refused.status, 403)
    assert.equal((await findClient(server.ctx.db, client.id))?.skipConsent, true)

    assert.equal(seeOther(await submitForm(browser, path, `${path}/skip-consent`, { skip_consent: 'off' })), `${path}?done=consent_shown`)
    assert.equal((await findClient(server.ctx.db, client.id))?.skipConsent, false)

    await server.ctx.activity.flush()
    const actions = (await activityPage(server.ctx.db, { teamId: olive.team!.id, clientId: client.id }, undefined, 10)).items.map((a) => [a.action, a.userId])
    assert.deepEqual(actions.slice(0, 2), [
      ['client.skip_consent_disabled', olive.user.id],
      ['client.skip_consent_enabled', olive.user.id],
    ])
  })

  it('never offers the switch for a third-party or public client, and refuses it there', async () => {
    const browser = await browserFor(server, olive.user)
    for (const { client } of [await seedClient(server.ctx, olive), await seedClient(server.ctx, olive, { isFirstParty: true, isConfidential: false })]) {
      const path = `/settings/clients/${client.id}`
      const page = await pageHtml(browser, path)
      assert.deepEqual(testIdTexts(page, 'skip-consent-state'), [])
      assert.doesNotMatch(page, /skip-consent/)
      const response = await postFields(browser, `${path}/skip-consent`, { skip_consent: 'on', _csrf: formField(page, '_csrf') })
      assert.equal(response.status, 400)
      assert.match(await response.text(), new RegExp(escapeRegExp(MESSAGES.skip_consent_first_party)))
      assert.equal((await findClient(server.ctx.db, client.id))?.skipConsent, false)
    }
  })
})

await forEachDialect('portal: ID token signing algorithm of an API client, with GATEHOUSE_SIGNING_ALG=EdDSA', (dialect) => {
  let server: TestServer
  let olive: SeededUser

  before(async () => {
    server = await startTestServer(dialect, { signingAlg: 'EdDSA' })
    olive = await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive', team: 'Acme' })
  })
  after(() => server.stop())

  it('offers RS256 (selected) and EdDSA for id_token_signed_response_alg, and keeps the choice (OpenID Connect Registration §2)', async () => {
    const browser = await browserFor(server, olive.user)
    const form = await pageHtml(browser, '/settings/clients/new')
    assert.match(form, /<select id="id-token-alg" name="id_token_signed_response_alg"/)
    assert.match(form, /<option value="RS256" selected>RS256<\/option>\s*<option value="EdDSA">EdDSA<\/option>/)
    const response = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: 'EdDSA app',
      redirect_uri: ['https://web.example/callback'],
      id_token_signed_response_alg: 'EdDSA',
    })
    assert.match(seeOther(response), /^\/settings\/clients\/[0-9a-f-]{36}\?shown=[\w-]+&done=created$/)
    const created = (await clientsOfTeam(server.ctx.db, olive.team!.id)).find((c) => c.name === 'EdDSA app')
    assert.equal(created?.idTokenSignedResponseAlg, 'EdDSA')
    assert.match(await pageHtml(browser, `/settings/clients/${created!.id}`), /<option value="EdDSA" selected>/)

    const refused = await submitForm(browser, '/settings/clients/new', '/settings/clients', {
      name: 'ES256 app',
      redirect_uri: ['https://web.example/callback'],
      id_token_signed_response_alg: 'ES256',
    })
    assert.equal(refused.status, 400)
    assert.equal(
      (await clientsOfTeam(server.ctx.db, olive.team!.id)).find((c) => c.name === 'ES256 app'),
      undefined,
    )
  })
})
