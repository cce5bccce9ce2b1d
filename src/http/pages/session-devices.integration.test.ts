import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { LAST_ACTIVE_RESOLUTION_MS } from '../../accounts/sessions.js'
import { forEachDialect } from '../../testing/dialects.js'
import { PASSWORD, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { formField, testIdTexts } from '../../testing/html.js'
import { HttpClient } from '../../testing/http-client.js'
import { pageHtml } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'

await forEachDialect('portal: telling signed-in sessions apart', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let offset = 0

  before(async () => {
    server = await startTestServer(dialect, {}, () => Date.now() + offset)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
  })
  after(async () => {
    await server.stop()
  })

  /** A browser that sends `userAgent` with every request, logged in through the login form. */
  async function browserLoggedIn(userAgent: string): Promise<HttpClient> {
    const browser = new HttpClient(server.url)
    const headers = { 'user-agent': userAgent }
    const html = await (await browser.get('/login', headers)).text()
    const response = await browser.postForm('/login', { email: ada.user.email, password: PASSWORD, _csrf: formField(html, '_csrf'), return_to: '/' }, headers)
    await response.arrayBuffer()
    assert.equal(response.status, 303)
    return browser
  }

  async function sessionsPage(browser: HttpClient, userAgent: string): Promise<string> {
    const response = await browser.get('/account/sessions', { 'user-agent': userAgent })
    assert.equal(response.status, 200)
    return response.text()
  }

  function lastActive(html: string, browserText: string): number {
    const row = html.split('data-testid="session-row"').find((part) => part.includes(browserText))
    assert.ok(row, `a row for ${browserText}`)
    return Date.parse(/data-testid="session-last-active" datetime="([^"]+)"/.exec(row)![1]!)
  }

  it('shows each session with its browser, system and address, and marks this one', async () => {
    const desk = await browserLoggedIn(FIREFOX)
    await browserLoggedIn(IPHONE)
    const html = await sessionsPage(desk, FIREFOX)
    const browsers = testIdTexts(html, 'session-browser')
    assert.ok(browsers.includes('Firefox 128 on Windows 10'), browsers.join(' | '))
    assert.ok(browsers.includes('Safari 17 on iOS 17.4'), browsers.join(' | '))
    assert.deepEqual(testIdTexts(html, 'session-address'), ['127.0.0.1', '127.0.0.1'])
    const current = html.split('data-testid="session-row"').filter((row) => row.includes('data-testid="this-session"'))
    assert.equal(current.length, 1)
    assert.deepEqual(testIdTexts(current[0]!, 'session-browser'), ['Firefox 128 on Windows 10'])
  })

  it('records use at most once a minute, and shows when each session was last active', async () => {
    const phone = await browserLoggedIn(IPHONE)
    const desk = await browserLoggedIn(FIREFOX)
    const signedIn = Date.now() + offset
    const writes = async () => {
      const row = await server.ctx.db.kysely
        .selectFrom('sessions')
        .select('last_active_at')
        .where('user_agent', '=', IPHONE)
        .orderBy('created_at', 'desc')
        .executeTakeFirstOrThrow()
      return row.last_active_at
    }
    const atLogin = await writes()
    offset += LAST_ACTIVE_RESOLUTION_MS / 2
    await pageHtml(phone, '/')
    assert.equal(await writes(), atLogin, 'no write within the minute')
    offset += LAST_ACTIVE_RESOLUTION_MS
    await pageHtml(phone, '/')
    const later = await writes()
    assert.ok(later !== null && atLogin !== null && later >= atLogin + LAST_ACTIVE_RESOLUTION_MS, `${atLogin} then ${later}`)
    const html = await sessionsPage(desk, FIREFOX)
    assert.ok(lastActive(html, 'Safari 17') >= signedIn + LAST_ACTIVE_RESOLUTION_MS)
  })
})
