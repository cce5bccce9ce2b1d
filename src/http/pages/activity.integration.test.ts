import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import type { User } from '../../accounts/types.js'
import type { ActivityEvent } from '../../activity/types.js'
import { deleteClient } from '../../clients/clients.js'
import { createPersonalAccessToken } from '../../tokens/personal-access-tokens.js'
import { forEachDialect } from '../../testing/dialects.js'
import { seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { decodeEntities, testIdTexts } from '../../testing/html.js'
import { HttpClient } from '../../testing/http-client.js'
import { browserFor } from '../../testing/oauth.js'
import { pageHtml } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

await forEachDialect('portal: activity', (dialect) => {
  let server: TestServer
  let acmeId: number
  let otherId: number
  let ada: User
  let bea: User
  let mallory: User
  /** Ada in Acme and Mallory in Other, to register clients for. */
  let acme: SeededUser
  let other: SeededUser

  before(async () => {
    server = await startTestServer(dialect)
    acme = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Acme' })
    ada = acme.user
    acmeId = acme.team!.id
    bea = (await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Acme', role: 'member' })).user
    other = await seedUser(server.ctx.db, 'mallory@example.com', { name: 'Mallory', team: 'Other' })
    mallory = other.user
    otherId = other.team!.id
  })
  after(() => server.stop())

  async function record(...events: ActivityEvent[]): Promise<void> {
    for (const event of events) server.ctx.activity.record(event)
    await server.ctx.activity.flush()
  }

  async function rows(user: User, path: string): Promise<string[]> {
    return testIdTexts(await pageHtml(await browserFor(server, user), path), 'activity-row')
  }

  it('sends a visitor who is not logged in to the login page', async () => {
    const response = await new HttpClient(server.url).get('/team/activity')
    assert.equal(response.status, 303)
    assert.equal(response.headers.get('location'), '/login?return_to=%2Fteam%2Factivity')
  })

  it('shows the team log newest first, 50 entries a page, with links to older and newest entries', async () => {
    const events: ActivityEvent[] = []
    for (let i = 1; i <= 55; i++)
      events.push({ action: 'api.request', teamId: acmeId, userId: ada.id, detail: `GET /api/v2/me 200 #${i}`, address: '192.0.2.1' })
    await record(...events, { action: 'api.request', teamId: otherId, userId: mallory.id, detail: 'other team' })

    const browser = await browserFor(server, ada)
    const first = await pageHtml(browser, '/team/activity')
    const firstRows = testIdTexts(first, 'activity-row')
    assert.equal(firstRows.length, 50)
    assert.match(firstRows[0]!, /^\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d UTC API request Ada — GET \/api\/v2\/me 200 #55 192\.0\.2\.1$/)
    assert.match(firstRows[49]!, /#6 /)
    assert.ok(!first.includes('other team'), 'nothing of another team')
    assert.doesNotMatch(first, /Newest entries/)
    const older = /<a href="([^"]+)" rel="next">Older entries →<\/a>/.exec(first)?.[1]
    assert.ok(older, 'a link to the older entries')

    const second = await pageHtml(browser, decodeEntities(older))
    assert.deepEqual(
      testIdTexts(second, 'activity-row').map((r) => /#(\d+)/.exec(r)?.[1]),
      ['5', '4', '3', '2', '1'],
    )
    assert.doesNotMatch(second, /Older entries/)
    assert.match(second, /<a href="\/team\/activity">← Newest entries<\/a>/)
  })

  it('filters by user, offering the members of the team', async () => {
    await record({ action: 'login.succeeded', teamId: acmeId, userId: bea.id, address: '198.51.100.7' })
    const html = await pageHtml(await browserFor(server, ada), `/team/activity?user=${bea.id}`)
    const options = /<select id="filter-user" name="user">([\s\S]*?)<\/select>/.exec(html)?.[1] ?? ''
    assert.deepEqual(
      [...options.matchAll(/<option value="([^"]*)"( selected)?>([^<]*)</g)].map((m) => [m[1], Boolean(m[2]), m[3]]),
      [
        ['', false, 'Everyone'],
        [String(ada.id), false, 'Ada'],
        [String(bea.id), true, 'Bea'],
      ],
    )
    assert.deepEqual(
      testIdTexts(html, 'activity-row').map((r) => r.replace(/^.*? UTC /, '')),
      ['Logged in Bea — 198.51.100.7'],
    )
    assert.match(html, /<a href="\/team\/activity">Clear filters<\/a>/)
  })

  it('filters by app and by token, and names them in each entry', async () => {
    const { client } = await seedClient(server.ctx, acme, { name: 'Portal App', redirectUris: ['https://portal.example/cb'] })
    const { record: pat } = await createPersonalAccessToken(server.ctx.db, { userId: ada.id, teamId: acmeId, name: 'Report script' }, Date.now())
    await record(
      { action: 'token.issued', teamId: acmeId, userId: bea.id, clientId: client.id, detail: 'authorization code grant' },
      { action: 'api.request', teamId: acmeId, userId: ada.id, personalAccessTokenId: pat.id, detail: 'GET /api/v2/team 200' },
    )

    const byApp = await rows(ada, `/team/activity?source=${encodeURIComponent(`client:${client.id}`)}`)
    assert.deepEqual(
      byApp.map((r) => r.replace(/^.*? UTC /, '')),
      ['Access token issued Bea App: Portal App authorization code grant'],
    )
    const byToken = await rows(ada, `/team/activity?source=${encodeURIComponent(`token:${pat.id}`)}`)
    assert.deepEqual(
      byToken.map((r) => r.replace(/^.*? UTC /, '')),
      ['API request Ada Token: Report script GET /api/v2/team 200'],
    )

    const html = await pageHtml(await browserFor(server, ada), `/team/activity?source=client:${client.id}`)
    assert.match(html, new RegExp(`<option value="client:${client.id}" selected>Portal App</option>`))
    assert.match(html, new RegExp(`<option value="token:${pat.id}">Report script</option>`))
    assert.match(html, new RegExp(`<a href="/team/activity\\?user=${bea.id}"><bdi>Bea</bdi></a>`), 'each user in the log links to their filter')

    // Bea sees the entry of Ada's token, but not the name Ada gave it.
    const asBea = await rows(bea, `/team/activity?source=token:${pat.id}`)
    assert.deepEqual(
      asBea.map((r) => r.replace(/^.*? UTC /, '')),
      ['API request Ada Token: Personal access token GET /api/v2/team 200'],
    )
  })

  it('combines the user and the app filters', async () => {
    const { client } = await seedClient(server.ctx, acme, { name: 'Combined', redirectUris: ['https://c.example/cb'] })
    await record(
      { action: 'api.request', teamId: acmeId, userId: ada.id, clientId: client.id, detail: 'by ada' },
      { action: 'api.request', teamId: acmeId, userId: bea.id, clientId: client.id, detail: 'by bea' },
    )
    const both = await rows(ada, `/team/activity?user=${bea.id}&source=client:${client.id}`)
    assert.equal(both.length, 1)
    assert.match(both[0]!, /by bea/)
  })

  it('names a deleted app as such, and never names an app of another team typed into the address', async () => {
    const { client: gone } = await seedClient(server.ctx, acme, { name: 'Soon Gone', redirectUris: ['https://g.example/cb'] })
    await record({ action: 'api.request', teamId: acmeId, userId: ada.id, clientId: gone.id, detail: 'before deletion' })
    await deleteClient(server.ctx.db, gone.id)
    const deleted = await rows(ada, `/team/activity?source=client:${gone.id}`)
    assert.match(deleted[0] ?? '', /App: Deleted app before deletion/)

    const { client: secret } = await seedClient(server.ctx, other, { name: 'Other Team Secret Project', redirectUris: ['https://o.example/cb'] })
    await record({ action: 'api.request', teamId: otherId, userId: mallory.id, clientId: secret.id, detail: 'other team call' })
    const html = await pageHtml(await browserFor(server, ada), `/team/activity?source=client:${secret.id}`)
    assert.ok(!html.includes('Other Team Secret Project'))
    assert.ok(!html.includes('other team call'))
    assert.match(html, /No activity matches these filters\./)
  })

  it('escapes what the log recorded', async () => {
    await record({ action: 'api.request', teamId: acmeId, userId: ada.id, detail: 'GET /api/v2/<script>alert(1)</script> 404' })
    const html = await pageHtml(await browserFor(server, ada), `/team/activity?user=${ada.id}`)
    assert.ok(!html.includes('<script>alert(1)'))
    assert.ok(html.includes('GET /api/v2/&lt;script&gt;alert(1)&lt;/script&gt; 404'))
  })

  it('ignores filters it cannot read instead of failing', async () => {
    const html = await pageHtml(await browserFor(server, ada), '/team/activity?user=abc&source=nonsense&cursor=x')
    assert.ok(testIdTexts(html, 'activity-row').length > 0)
  })

  it('shows API calls as usage per app or token and user: calls, last call and when, within the team only', async () => {
    const { token, record: pat } = await createPersonalAccessToken(server.ctx.db, { userId: ada.id, teamId: acmeId, name: 'Usage script' }, Date.now())
    const call = (path: string) => fetch(new URL(path, server.url), { headers: { authorization: `Bearer ${token}` } })
    for (let i = 0; i < 3; i++) assert.equal((await call('/api/v2/me')).status, 200)
    assert.equal((await call('/api/v2/team')).status, 200)
    await server.ctx.usage.flush()

    const html = await pageHtml(await browserFor(server, ada), `/team/activity?source=token:${pat.id}`)
    assert.deepEqual(
      testIdTexts(html, 'usage-row').map((r) => r.replace(/ [^ ]+ [^ ]+ [^ ]+, [0-9:]+ UTC$/, '')),
      ['Token: Usage script Ada 4 GET /api/v2/team 200'],
    )
    assert.deepEqual(testIdTexts(html, 'activity-row'), [], 'the calls are not activity entries')
    const elsewhere = await pageHtml(await browserFor(server, mallory), '/team/activity')
    assert.ok(
      !testIdTexts(elsewhere, 'usage-row').some((r) => r.includes('Usage script') || r.includes('Personal access token')),
      "another team's usage is not shown",
    )
  })
})
