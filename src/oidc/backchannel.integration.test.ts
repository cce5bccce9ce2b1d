import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, it } from 'node:test'
import { countBackchannelDeliveries } from '../db/backchannel-deliveries.js'
import { updateClientOpenIdSettings } from '../db/clients.js'
import type { LogMethod } from '../logger.js'
import { forEachDialect } from '../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededClient } from '../testing/fixtures.js'
import { hiddenFields } from '../testing/html.js'
import { LogoutReceiver } from '../testing/logout-receiver.js'
import { browserFor } from '../testing/oauth.js'
import { openIdTokens } from '../testing/openid.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { BackchannelLogout, type DeliveryPolicy } from './backchannel/delivery.js'

/** Short waits, so that retries and giving up happen within a test. */
const FAST: DeliveryPolicy = { timeoutMs: 1_000, firstRetryDelayMs: 150, maxRetryDelayMs: 300, giveUpAfterMs: 1_500, pollIntervalMs: 50 }

/** The receivers are on loopback: the operator allows Gatehouse to call there. */
const ALLOW_LOOPBACK = { outboundAllowedHosts: ['127.0.0.1'] }

/** A user who signed in to a client listening at `uri`, and then logged out (after `beforeLogout`); the session's ID token claims hold its sid. */
async function signInAndLogOut(
  server: TestServer,
  uri: string,
  email: string,
  beforeLogout: (app: SeededClient) => Promise<unknown> = () => Promise.resolve(),
): Promise<SeededClient> {
  const signedUp = await seedUser(server.ctx.db, email, { team: email })
  const app = await seedClient(server.ctx, signedUp, { backchannelLogoutUri: uri })
  const browser = await browserFor(server, signedUp.user)
  await openIdTokens(server, browser, { id: app.id, secret: app.secret, redirectUri: REDIRECT }, { scope: 'openid' })
  await beforeLogout(app)
  const fields = hiddenFields(await (await browser.get('/logout')).text(), '/logout')
  const response = await browser.postForm('/logout', fields)
  assert.equal(response.status, 303, 'the logout answers without waiting for the client')
  return app
}

await forEachDialect('Back-Channel Logout 1.0 deliveries, kept in the database', (dialect) => {
  let server: TestServer
  let receiver: LogoutReceiver
  let users = 0
  const nextEmail = () => `user${++users}@example.com`

  before(async () => {
    receiver = await new LogoutReceiver().start()
    server = await startTestServer(dialect, ALLOW_LOOPBACK, undefined, { backchannelDelivery: FAST })
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
      await signInAndLogOut(server, receiver.url, nextEmail())
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
    await signInAndLogOut(server, receiver.url, nextEmail())
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
    await signInAndLogOut(server, receiver.url, nextEmail())
    await sleep(FAST.giveUpAfterMs + 500)
    assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0, 'the delivery is dropped')
    const attempts = receiver.received.length - before
    assert.ok(attempts >= 2 && attempts <= 10, `a bounded number of attempts, with backoff: ${attempts}`)
    await sleep(FAST.maxRetryDelayMs * 2)
    assert.equal(receiver.received.length - before, attempts, 'no attempt after giving up')
    receiver.statuses = []
  })

  it('delivers to an internal host the operator allows (GATEHOUSE_OUTBOUND_ALLOWED_HOSTS), over plain http', async () => {
    const before = receiver.received.length
    await signInAndLogOut(server, receiver.url, nextEmail())
    await receiver.arrived(before + 1)
    assert.equal(receiver.received.length, before + 1)
  })

  it("sends each retry to the client's current back-channel URL, and drops the delivery once the client has none", async () => {
    const moved = await new LogoutReceiver().start()
    try {
      const before = receiver.received.length
      receiver.statuses = [503]
      const app = await signInAndLogOut(server, receiver.url, nextEmail())
      await receiver.arrived(before + 1)
      await updateClientOpenIdSettings(server.ctx.db.kysely, app.id, { backchannelLogoutUri: moved.url }, Date.now())
      // A bounded wait rather than moved.arrived(1): a retry sent elsewhere must fail the test, not leave it waiting.
      await sleep(FAST.maxRetryDelayMs * 3)
      assert.equal(moved.received.length, 1, 'the retry goes to the URL the client has now')
      assert.equal(receiver.received.length, before + 1, 'the old URL hears nothing more')

      receiver.statuses = [503]
      const removed = await signInAndLogOut(server, receiver.url, nextEmail())
      await receiver.arrived(before + 2)
      await updateClientOpenIdSettings(server.ctx.db.kysely, removed.id, { backchannelLogoutUri: null }, Date.now())
      await sleep(FAST.maxRetryDelayMs * 2)
      assert.equal(receiver.received.length, before + 2, 'nothing is sent once the client has no URL')
      assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0, 'the delivery is dropped')
      assert.equal(moved.received.length, 1)
    } finally {
      await moved.close()
    }
  })
})

await forEachDialect('Back-channel logout calls only public addresses unless the operator allows the host (OWASP A10:2021, SSRF)', (dialect) => {
  let server: TestServer
  let receiver: LogoutReceiver
  /** A bare TCP listener on loopback: it counts connections, so even a blind port probe (a TLS ClientHello) shows. */
  let probe: Server
  let connections = 0
  let probePort = 0
  const warnings: unknown[][] = []
  let users = 0
  const nextEmail = () => `guarded${++users}@example.com`

  before(async () => {
    receiver = await new LogoutReceiver().start()
    probe = createServer((socket) => {
      connections += 1
      socket.destroy()
    })
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    probePort = (probe.address() as { port: number }).port
    server = await startTestServer(dialect, {}, undefined, { backchannelDelivery: FAST })
    server.ctx.log.warn = ((...args: unknown[]) => void warnings.push(args)) as LogMethod
  })
  after(async () => {
    await server.stop()
    await receiver.close()
    await new Promise((resolve) => probe.close(resolve))
  })

  /** A client row naming `uri` as it is, as an older row or another check's mistake would have it: only the connection-time guard stands in the way. */
  const namingDirectly = (uri: string) => (app: SeededClient) =>
    updateClientOpenIdSettings(server.ctx.db.kysely, app.id, { backchannelLogoutUri: uri }, Date.now())

  it('a loopback receiver named in a portal-made client (a row from before the portal checked) receives nothing: the delivery is dropped, not retried, and logged once without the token', async () => {
    const from = warnings.length
    await signInAndLogOut(server, 'https://app.example/bc', nextEmail(), namingDirectly(receiver.url))
    await sleep(FAST.giveUpAfterMs)
    assert.equal(receiver.received.length, 0, 'nothing is POSTed to a loopback address')
    assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0, 'dropped at once, not retried')
    const logged = warnings.slice(from).filter(([, message]) => String(message).startsWith('back-channel logout not sent'))
    assert.equal(logged.length, 1, 'said once')
    assert.doesNotMatch(JSON.stringify(logged), /eyJ/, 'without the logout token')
  })

  it('refuses at connection time a name that resolves to loopback, with or without the trailing dot: no TCP connection is opened', async () => {
    for (const uri of [`https://localhost:${probePort}/bc`, `https://localhost.:${probePort}/bc`, `https://LocalHost.:${probePort}/bc`]) {
      await signInAndLogOut(server, 'https://app.example/bc', nextEmail(), namingDirectly(uri))
    }
    await sleep(FAST.giveUpAfterMs)
    assert.equal(connections, 0, 'no connection reached the loopback listener')
    assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0)
  })

  it('refuses address literals of private, link-local and IPv4-mapped loopback addresses before connecting', async () => {
    for (const uri of [`https://127.0.0.1:${probePort}/bc`, `https://[::ffff:127.0.0.1]:${probePort}/bc`, `https://2130706433:${probePort}/bc`]) {
      await signInAndLogOut(server, 'https://app.example/bc', nextEmail(), namingDirectly(uri))
    }
    await sleep(FAST.giveUpAfterMs)
    assert.equal(connections, 0)
    assert.equal(await countBackchannelDeliveries(server.ctx.db.kysely), 0)
  })
})

await forEachDialect('Back-Channel Logout 1.0 deliveries across a restart', (dialect) => {
  let server: TestServer
  let receiver: LogoutReceiver
  // Time stands still until the test moves it, so the retry comes due only after the restart.
  let now = Date.now()

  before(async () => {
    receiver = await new LogoutReceiver().start()
    server = await startTestServer(dialect, ALLOW_LOOPBACK, () => now, { backchannelDelivery: FAST })
  })
  after(async () => {
    await server.stop()
    await receiver.close()
  })

  it('a delivery that failed before a restart is sent by the server started on the same database', async () => {
    receiver.statuses = [503]
    await signInAndLogOut(server, receiver.url, 'ada@example.com')
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
