import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachDialect } from '../testing/dialects.js'
import { PASSWORD, seedClient, seedUser } from '../testing/fixtures.js'
import { authorizePath, basicAuth, browserFor, postOAuth } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { revokeTeamApp, teamApps } from './team-apps.js'

await forEachDialect('Team apps and the password grant', (dialect) => {
  let server: TestServer

  before(async () => {
    server = await startTestServer(dialect)
  })
  after(() => server.stop())

  it('lists a first-party app the user gave a password to, used from the token it got, and revokes it', async () => {
    const pat = await seedUser(server.ctx.db, 'pat@example.com', { team: 'Mobile' })
    const { user, team } = pat
    const { client, secret } = await seedClient(server.ctx, pat, { name: 'Our mobile app', redirectUris: ['https://mobile.example/cb'], isFirstParty: true })
    const { response, body } = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'password', username: 'pat@example.com', password: PASSWORD },
      { authorization: basicAuth(client.id, secret) },
    )
    assert.equal(response.status, 200)
    await server.ctx.activity.flush()
    const [listed] = await teamApps(server.ctx.db, team!.id)
    assert.equal(listed?.name, 'Our mobile app')
    assert.equal(listed?.authorisedBy.email, 'pat@example.com')
    // An app that signs people in (OpenID Connect) or calls another resource (MCP) may never call the API: getting a token is a use.
    assert.ok(listed?.lastUsedAt instanceof Date, 'issuing a token is a use')

    const me = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${body.access_token}` } })
    assert.equal(me.status, 200)
    await server.ctx.usage.flush()
    assert.ok((await teamApps(server.ctx.db, team!.id))[0]!.lastUsedAt!.getTime() >= listed.lastUsedAt.getTime())

    await revokeTeamApp(server.ctx.db, server.ctx.activity, { clientId: client.id, teamId: team!.id, by: { userId: user.id, role: 'owner' } }, Date.now())
    const refused = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${body.access_token}` } })
    assert.equal(refused.status, 401)
    assert.deepEqual(await teamApps(server.ctx.db, team!.id), [])
  })

  it('records no approval the user never saw: after the password grant, signing in to the app in the browser still shows the consent page (OpenID Connect Core §3.1.2.4: consent is the user’s own decision)', async () => {
    const sam = await seedUser(server.ctx.db, 'sam@example.com', { team: 'Desk' })
    const redirectUri = 'https://desk.example/cb'
    const { client, secret } = await seedClient(server.ctx, sam, { name: 'Our desk app', redirectUris: [redirectUri], isFirstParty: true })
    const granted = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'password', username: 'sam@example.com', password: PASSWORD, scope: 'read' },
      { authorization: basicAuth(client.id, secret) },
    )
    assert.equal(granted.response.status, 200)
    assert.equal((await teamApps(server.ctx.db, sam.team!.id))[0]?.name, 'Our desk app', 'still listed on Team apps, so it can be revoked there')

    const browser = await browserFor(server, sam.user)
    const answered = await browser.get(authorizePath({ client_id: client.id, redirect_uri: redirectUri, response_type: 'code', scope: 'read', state: 's' }))
    assert.equal(answered.status, 200, 'the consent page, not a code')
    assert.equal(answered.headers.get('location'), null)
  })
})
