import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, it } from 'node:test'
import { countBackchannelDeliveries } from '../db/backchannel-deliveries.js'
import { forEachDialect } from '../testing/dialects.js'
import { REDIRECT, seedClient, seedUser } from '../testing/fixtures.js'
import { hiddenFields } from '../testing/html.js'
import { LogoutReceiver } from '../testing/logout-receiver.js'
import { browserFor } from '../testing/oauth.js'
import { openIdTokens } from '../testing/openid.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { BackchannelLogout, type DeliveryPolicy } from './backchannel/delivery.js'

/** Short waits, so that retries and giving up happen within a test. */
const FAST: DeliveryPolicy = { timeoutMs: 1_000, firstRetryDelayMs: 150, maxRetryDelayMs: 300, giveUpAfterMs: 1_500, pollIntervalMs: 50 }

/** A user who signed in to a client listening at the receiver, and then logged out; the session's ID token claims hold its sid. */
async function signInAndLogOut(server: TestServer, receiver: LogoutReceiver, email: string): Promise<void> {
  const signedUp = await seedUser(server.ctx.db, email, { team: email })
  const app = await seedClient(server.ctx, signedUp, { backchannelLogoutUri: receiver.url })
  const browser = await browserFor(server, signedUp.user)
  await openIdTokens(server, browser, { id: app.id, secret: app.secret, redirectUri: REDIRECT }, { scope: 'openid' })
  const fields = hiddenFields(await (await browser.get('/logout')).text(), '/logout')
  const response = await browser.postForm('/logout', fields)
  assert.equal(response.status, 303, 'the logout answers without waiting for the client')
}

await forEachDialect('Back-Channel Logout 1.0 deliveries, kept in the database', (dialect) => {
  let server: TestServer
  let receiver: LogoutReceiver
  let users = 0
  const nextEmail = () => `user${++users}@example.com`

  before(async () => {
    receiver = await new LogoutReceiver().start()
    server = await startTestServer(dialect, {}, undefined, { backchannelDelivery: FAST })
  })
  after(async () => {
    await server.stop()
    await receiver.close()
  })

  it('delivers a logout token once, even with two processes looking for deliveries', async () => {
    const second = new BackchannelLogout(server.ctx, FAST)
    second.start()
    try {
      const before = receiver.received.length
      await signInAndLogOut(server, receiver, nextEmail())
      await receiver.arrived(before + 1)
      await sleep(FAST.firstRetryDelayMs * 3)
      assert.equal(receiver.received.length, before + 1)
      assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0)
    } finally {
      await second.close()
    }
  })

  it('tries again after the client fails, with the same session, until it succeeds', async () => {
    const before = receiver.received.length
    receiver.statuses = [500, 503]
    await signInAndLogOut(server, receiver, nextEmail())
    await receiver.arrived(before + 3)
    const sids = new Set(receiver.received.slice(before).map((t) => t.sid))
    assert.equal(sids.size, 1, 'each attempt is about the same session')
    await sleep(FAST.firstRetryDelayMs * 3)
    assert.equal(receiver.received.length, before + 3, 'nothing more once it succeeded')
    assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0)
  })

  it('gives up once the bound in time has passed', async () => {
    const before = receiver.received.length
    receiver.statuses = Array.from({ length: 100 }, () => 500)
    await signInAndLogOut(server, receiver, nextEmail())
    await sleep(FAST.giveUpAfterMs + 500)
    assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0, 'the delivery is dropped')
    const attempts = receiver.received.length - before
    assert.ok(attempts >= 2 && attempts <= 10, `a bounded number of attempts, with backoff: ${attempts}`)
    await sleep(FAST.maxRetryDelayMs * 2)
    assert.equal(receiver.received.length - before, attempts, 'no attempt after giving up')
    receiver.statuses = []
  })
})

await forEachDialect('Back-Channel Logout 1.0 deliveries across a restart', (dialect) => {
  let server: TestServer
  let receiver: LogoutReceiver
  // Time stands still until the test moves it, so the retry comes due only after the restart.
  let now = Date.now()

  before(async () => {
    receiver = await new LogoutReceiver().start()
    server = await startTestServer(dialect, {}, () => now, { backchannelDelivery: FAST })
  })
  after(async () => {
    await server.stop()
    await receiver.close()
  })

  it('a delivery that failed before a restart is sent by the server started on the same database', async () => {
    receiver.statuses = [503]
    await signInAndLogOut(server, receiver, 'ada@example.com')
    await receiver.arrived(1)
    server = await server.restart({})
    assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 1, 'kept in the database')
    now += FAST.firstRetryDelayMs * 2
    await receiver.arrived(2)
    assert.equal(receiver.received[1]?.sid, receiver.received[0]?.sid)
    await sleep(FAST.pollIntervalMs * 4)
    assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0)
  })
})
