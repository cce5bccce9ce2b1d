import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { setDisabled } from '../../accounts/users.js'
import { MESSAGES } from '../../messages.js'
import { forEachDialect } from '../../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededClient, type SeededUser } from '../../testing/fixtures.js'
import { escapeHtml, testIdTexts } from '../../testing/html.js'
import type { HttpClient } from '../../testing/http-client.js'
import { LogoutReceiver } from '../../testing/logout-receiver.js'
import { browserFor } from '../../testing/oauth.js'
import { openIdTokens, verifyIdToken } from '../../testing/openid.js'
import { pageHtml, seeOther, submitForm } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

await forEachDialect('portal: signed-in sessions', (dialect) => {
  let server: TestServer
  let receiver: LogoutReceiver
  let ada: SeededUser
  let app: SeededClient

  before(async () => {
    receiver = await new LogoutReceiver().start()
    // The receiver is on loopback: only a host the operator allows is called there.
    server = await startTestServer(dialect, { outboundAllowedHosts: ['127.0.0.1'] })
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    app = await seedClient(server.ctx, ada, { backchannelLogoutUri: receiver.url })
  })
  after(async () => {
    await server.stop()
    await receiver.close()
  })

  /** A browser logged in as Ada that signed in to the app; the session's `sid`. */
  async function deviceSignedIn(): Promise<{ browser: HttpClient; sid: string }> {
    const browser = await browserFor(server, ada.user)
    const tokens = await openIdTokens(server, browser, { id: app.id, secret: app.secret, redirectUri: REDIRECT }, { scope: 'openid' })
    return { browser, sid: String((await verifyIdToken(server, tokens.id_token, app.id)).sid) }
  }

  async function loggedIn(browser: HttpClient): Promise<boolean> {
    const response = await browser.get('/account/sessions')
    await response.arrayBuffer()
    return response.status === 200
  }

  it('lists the sessions with this one marked and no secret, linked from the menu', async () => {
    const here = await browserFor(server, ada.user)
    const other = await deviceSignedIn()
    const html = await pageHtml(here, '/account/sessions')
    assert.match(html, /<a href="\/account\/sessions" aria-current="page">Signed-in sessions<\/a>/)
    const rows = testIdTexts(html, 'session-row')
    assert.ok(rows.length >= 2)
    assert.deepEqual(testIdTexts(html, 'this-session'), ['This session'])
    assert.ok(html.includes(`value="${other.sid}"`), 'the other session can be signed out')
    for (const cookie of here.cookies.values()) assert.ok(!html.includes(cookie), 'no session secret on the page')
  })

  it('signs out another session at once and tells the apps it signed in to', async () => {
    const here = await browserFor(server, ada.user)
    const other = await deviceSignedIn()
    const response = await submitForm(here, '/account/sessions', '/account/sessions/end', { sid: other.sid })
    assert.equal(seeOther(response), '/account/sessions?done=ended')
    assert.equal(await loggedIn(other.browser), false, 'the other device is logged out')
    assert.equal(await loggedIn(here), true, 'this one is not')
    await receiver.arrivedFor([other.sid])
    const token = receiver.received.find((t) => t.sid === other.sid)!
    assert.equal(token.sub, String(ada.user.id))
    assert.equal(token.aud, app.id)
    assert.deepEqual(testIdTexts(await pageHtml(here, '/account/sessions?done=ended'), 'success-banner'), [
      'That session was signed out. Apps it signed in to that listen for it were told.',
    ])
  })

  it("refuses to end a session that is not the user's own", async () => {
    const bea = await seedUser(server.ctx.db, 'bea@example.com')
    const beas = await browserFor(server, bea.user)
    const other = await deviceSignedIn()
    const response = await submitForm(beas, '/account/sessions', '/account/sessions/end', { sid: other.sid })
    assert.equal(response.status, 404)
    assert.ok((await response.text()).includes(escapeHtml(MESSAGES.session_not_found)))
    assert.equal(await loggedIn(other.browser), true)
  })

  it('signs out everywhere else, telling the apps of every session that ended', async () => {
    const here = await browserFor(server, ada.user)
    const first = await deviceSignedIn()
    const second = await deviceSignedIn()
    assert.equal(seeOther(await submitForm(here, '/account/sessions', '/account/sessions/end-others')), '/account/sessions?done=others_ended')
    assert.equal(await loggedIn(first.browser), false)
    assert.equal(await loggedIn(second.browser), false)
    assert.equal(await loggedIn(here), true)
    await receiver.arrivedFor([first.sid, second.sid])
    assert.equal(testIdTexts(await pageHtml(here, '/account/sessions'), 'session-row').length, 1)
  })

  it('disabling the user ends their sessions and tells the apps', async () => {
    const other = await deviceSignedIn()
    await setDisabled(server.ctx.db, ada.user.email, true, Date.now(), (ended) => server.ctx.backchannel.sessionsEnded(ended))
    await receiver.arrivedFor([other.sid])
    await setDisabled(server.ctx.db, ada.user.email, false, Date.now())
  })
})
