import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import type { User } from '../../accounts/types.js'
import { activityPage } from '../../activity/list.js'
import { MESSAGES } from '../../messages.js'
import { forEachDialect } from '../../testing/dialects.js'
import { seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { formField, testIdTexts } from '../../testing/html.js'
import { HttpClient } from '../../testing/http-client.js'
import { authorizePath, browserFor, codeFor, redeemCode, refreshExchange, type IssuedTokens } from '../../testing/oauth.js'
import { meStatus, pageHtml, postFields, seeOther, utcDay } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const REDIRECT = 'https://vendor.example/callback'

interface App {
  id: string
  secret: string
}

await forEachDialect('portal: team apps', (dialect) => {
  let server: TestServer
  let acmeId: number
  let ada: User
  let bea: User
  let mallory: User
  let vendor: SeededUser
  let counter = 0
  /** Moved forward to tell the moment of the authorisation from the moment of the last use. */
  let clockOffset = 0

  before(async () => {
    server = await startTestServer(dialect, {}, () => Date.now() + clockOffset)
    const acme = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Acme' })
    ada = acme.user
    acmeId = acme.team!.id
    bea = (await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Acme', role: 'member' })).user
    mallory = (await seedUser(server.ctx.db, 'mallory@example.com', { name: 'Mallory', team: 'Other' })).user
    vendor = await seedUser(server.ctx.db, 'vendor@example.com', { name: 'Vendor', team: 'Vendor Ltd' })
  })
  after(() => server.stop())

  /** A third-party app, registered by another team, as integrators' apps are. */
  async function vendorApp(name?: string): Promise<App> {
    counter += 1
    return seedClient(server.ctx, vendor, { name: name ?? `Vendor App ${counter}`, redirectUris: [REDIRECT] })
  }

  /** The user approves the app in their active team; the app exchanges the code. */
  async function authorise(user: User, app: App): Promise<IssuedTokens> {
    const code = await codeFor(await browserFor(server, user), { client_id: app.id, redirect_uri: REDIRECT, response_type: 'code' })
    return redeemCode(server, app, code, { redirect_uri: REDIRECT })
  }

  function appRow(html: string, name: string): string | undefined {
    return testIdTexts(html, 'team-app-row').find((r) => r.startsWith(name))
  }

  it('sends a visitor who is not logged in to the login page', async () => {
    const response = await new HttpClient(server.url).get('/team/apps')
    assert.equal(response.status, 303)
    assert.equal(response.headers.get('location'), '/login?return_to=%2Fteam%2Fapps')
  })

  it('lists the apps users of the team authorised: name, who, when, what was granted, last used', async () => {
    const app = await vendorApp('Ledger Sync')
    const authorisedAt = new Date(server.ctx.clock())
    const tokens = await authorise(ada, app)
    clockOffset += 3 * 24 * 3600 * 1000
    const usedAt = new Date(server.ctx.clock())
    assert.equal(await meStatus(server, tokens.access_token), 200)
    await server.ctx.usage.flush()

    const row = appRow(await pageHtml(await browserFor(server, bea), '/team/apps'), 'Ledger Sync')
    assert.ok(row, 'a member who did not authorise the app sees it too')
    const [, by, when, granted, lastUsed] =
      /^Ledger Sync (.+?) , (.+? UTC) (.+?) (\d+ \w+ \d{4}, .+? UTC) Only Ada or a team owner can revoke it/.exec(row) ?? []
    assert.equal(granted, 'Everything the user may do in this team', row)
    assert.equal(by, 'Ada (ada@example.com)', row)
    assert.ok(when?.startsWith(utcDay(authorisedAt)), `authorised ${when}, expected ${utcDay(authorisedAt)}`)
    assert.ok(lastUsed?.startsWith(utcDay(usedAt)), `last used ${lastUsed}, expected ${utcDay(usedAt)}`)
  })

  it('shows an app once, with everyone who authorised it', async () => {
    const app = await vendorApp('Shared Board')
    await authorise(ada, app)
    await authorise(bea, app)
    const html = await pageHtml(await browserFor(server, ada), '/team/apps')
    assert.equal(testIdTexts(html, 'team-app-row').filter((r) => r.startsWith('Shared Board')).length, 1)
    const row = appRow(html, 'Shared Board')!
    assert.ok(row.includes('Ada (ada@example.com)') && row.includes('Bea (bea@example.com)'), row)
  })

  it('revokes an app after a confirmation: every token it holds for the team is refused and consent is asked again (seed 000)', async () => {
    const app = await vendorApp('Revocable')
    const adas = await authorise(ada, app)
    const beas = await authorise(bea, app)
    const browser = await browserFor(server, ada)

    const list = await pageHtml(browser, '/team/apps')
    assert.match(list, new RegExp(`<a href="/team/apps/${app.id}/revoke">Revoke<span class="visually-hidden"> <bdi>Revocable</bdi></span></a>`))
    const confirm = await pageHtml(browser, `/team/apps/${app.id}/revoke`)
    assert.match(confirm, /<button type="submit" class="danger">Revoke access<\/button>/)
    assert.match(confirm, /for every user who authorised it/)
    assert.equal(await meStatus(server, adas.access_token), 200, 'the confirmation page revokes nothing')

    const revoked = await postFields(browser, `/team/apps/${app.id}/revoke`, { _csrf: formField(confirm, '_csrf') })
    assert.equal(seeOther(revoked), '/team/apps?done=revoked')
    assert.equal(await meStatus(server, adas.access_token), 401)
    assert.equal(await meStatus(server, beas.access_token), 401)
    const refresh = await refreshExchange(server, app, adas.refresh_token)
    assert.equal(refresh.response.status, 400)
    assert.equal(refresh.body.error, 'invalid_grant')

    const after = await pageHtml(browser, '/team/apps?done=revoked')
    assert.match(testIdTexts(after, 'success-banner')[0] ?? '', /Access was revoked/)
    assert.equal(appRow(after, 'Revocable'), undefined)

    const again = await browser.get(authorizePath({ client_id: app.id, redirect_uri: REDIRECT, response_type: 'code' }))
    assert.equal(again.status, 200, 'the consent page is shown again instead of a silent redirect')
    assert.match(await again.text(), /<form method="post" action="\/oauth\/authorize"/)

    await server.ctx.activity.flush()
    const { items } = await activityPage(server.ctx.db, { teamId: acmeId, clientId: app.id }, undefined, 1)
    assert.deepEqual(
      items.map((i) => [i.action, i.userId]),
      [['app.revoked', ada.id]],
    )
  })

  it('refuses a revoke without the CSRF token of the session, and the app keeps working', async () => {
    const app = await vendorApp()
    const tokens = await authorise(ada, app)
    const browser = await browserFor(server, ada)
    for (const fields of [{}, { _csrf: 'forged' }] as Record<string, string>[]) {
      const response = await postFields(browser, `/team/apps/${app.id}/revoke`, fields)
      assert.equal(response.status, 403)
      assert.match(await response.text(), /The form has expired/)
    }
    assert.equal(await meStatus(server, tokens.access_token), 200)
  })

  it('answers 404 for an app no user of the active team authorised, and leaves the other team alone', async () => {
    const app = await vendorApp('Acme Only')
    const tokens = await authorise(ada, app)
    const browser = await browserFor(server, mallory)
    assert.equal(appRow(await pageHtml(browser, '/team/apps'), 'Acme Only'), undefined)
    const confirm = await browser.get(`/team/apps/${app.id}/revoke`)
    assert.equal(confirm.status, 404)
    const confirmHtml = await confirm.text()
    assert.ok(confirmHtml.includes(MESSAGES.team_app_not_found))
    assert.ok(!confirmHtml.includes('Acme Only'))
    const csrf = formField(await pageHtml(browser, '/team/apps'), '_csrf')
    const response = await postFields(browser, `/team/apps/${app.id}/revoke`, { _csrf: csrf })
    assert.equal(response.status, 404)
    assert.equal(await meStatus(server, tokens.access_token), 200)
    assert.equal((await browserFor(server, ada).then((b) => b.get('/team/apps/not-a-client/revoke'))).status, 404)
  })

  it('escapes an app name that is markup', async () => {
    const app = await vendorApp('<script>alert(1)</script>')
    await authorise(ada, app)
    const browser = await browserFor(server, ada)
    for (const path of ['/team/apps', `/team/apps/${app.id}/revoke`]) {
      const html = await pageHtml(browser, path)
      assert.ok(!html.includes('<script>alert'), path)
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), path)
    }
  })

  it('a member revokes only what they authorised themselves; the page says who may revoke the others (OWASP ASVS V4.2.1)', async () => {
    const adasOnly = await vendorApp('Ada Only')
    const shared = await vendorApp('Both Of Us')
    const adas = await authorise(ada, adasOnly)
    const adasShared = await authorise(ada, shared)
    const beasShared = await authorise(bea, shared)
    const browser = await browserFor(server, bea)

    const list = await pageHtml(browser, '/team/apps')
    assert.ok(!list.includes(`/team/apps/${adasOnly.id}/revoke`), 'no revoke link for an app another member authorised')
    assert.match(appRow(list, 'Ada Only') ?? '', /Only Ada or a team owner can revoke it/)
    assert.ok(list.includes(`/team/apps/${shared.id}/revoke`))
    assert.equal((await browser.get(`/team/apps/${adasOnly.id}/revoke`)).status, 403)
    const csrf = formField(list, '_csrf')
    const refused = await postFields(browser, `/team/apps/${adasOnly.id}/revoke`, { _csrf: csrf })
    assert.equal(refused.status, 403)
    assert.ok((await refused.text()).includes(MESSAGES.team_app_forbidden))
    assert.equal(await meStatus(server, adas.access_token), 200, 'the app Ada authorised keeps working')

    const own = await postFields(browser, `/team/apps/${shared.id}/revoke`, { _csrf: csrf })
    assert.equal(seeOther(own), '/team/apps?done=revoked_own')
    assert.equal(await meStatus(server, beasShared.access_token), 401, 'Bea’s own authorisation ends')
    assert.equal(await meStatus(server, adasShared.access_token), 200, 'Ada’s authorisation of the same app stays')
  })

  it('a team owner revokes an app another member authorised', async () => {
    const app = await vendorApp('Bea Only')
    const beas = await authorise(bea, app)
    const browser = await browserFor(server, ada)
    const confirm = await pageHtml(browser, `/team/apps/${app.id}/revoke`)
    assert.equal(seeOther(await postFields(browser, `/team/apps/${app.id}/revoke`, { _csrf: formField(confirm, '_csrf') })), '/team/apps?done=revoked')
    assert.equal(await meStatus(server, beas.access_token), 401)
  })

  it('says so when no app is authorised in the team', async () => {
    const html = await pageHtml(await browserFor(server, mallory), '/team/apps')
    assert.match(html, /No app is authorised in this team\./)
  })
})
