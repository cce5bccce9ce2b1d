import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createTestDatabase, postgresBaseUrl, postgresSkipReason, type TestDatabase } from '../testing/databases.js'
import type { HttpClient } from '../testing/http-client.js'
import {
  createAccount,
  eventually,
  exchangeCode,
  logInAt,
  me,
  newCode,
  refresh,
  sleep,
  startGatehouse,
  tokensOf,
  type Account,
  type SpawnedServer,
  type TokenPair,
} from '../testing/spawned.js'

/** How long recovery may take once the database is back. */
const BOUND_MS = 20_000
/** How long any request may take while the database is frozen: "a few seconds" (connect timeout 3 s, query timeout 5 s, /readyz 2 s), and some slack. */
const FROZEN_BOUND_MS = 8000

type Mode = 'open' | 'refusing' | 'silent'

interface Pair {
  client: Socket
  upstream: Socket
  held: { to: Socket; chunk: Buffer }[]
  /** Silent for good: the path this connection took is gone. */
  abandoned: boolean
}

/**
 * A TCP relay to PostgreSQL that plays the outages, without touching the
 * real server: `refuse` closes every connection and refuses new ones (the
 * database is down); `silence` keeps connections open but lets nothing
 * through (a network partition), and `open` after it delivers what was held
 * back, as TCP does when a partition heals; `abandonSilent` opens for new
 * connections only, while those open during the silence never hear back
 * (a failover, a firewall that forgot them); `delay` slows every answer.
 */
class Relay {
  private server: Server | undefined
  private readonly pairs = new Set<Pair>()
  private mode: Mode = 'open'
  private delayMs = 0
  port = 0

  async open(): Promise<void> {
    const target = new URL(postgresBaseUrl())
    this.mode = 'open'
    for (const pair of this.pairs) if (!pair.abandoned) for (const { to, chunk } of pair.held.splice(0)) to.write(chunk)
    if (this.server) return
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname)
      const pair: Pair = { client, upstream, held: [], abandoned: false }
      this.pairs.add(pair)
      const forward = (to: Socket) => (chunk: Buffer) => {
        if (this.mode === 'silent' || pair.abandoned) pair.held.push({ to, chunk })
        else if (this.delayMs > 0 && to === client) setTimeout(() => to.write(chunk), this.delayMs)
        else to.write(chunk)
      }
      client.on('data', forward(upstream))
      upstream.on('data', forward(client))
      for (const socket of [client, upstream]) {
        socket.on('error', () => {})
        socket.on('close', () => {
          client.destroy()
          upstream.destroy()
          this.pairs.delete(pair)
        })
      }
    })
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve))
    const address = this.server.address()
    if (typeof address === 'object' && address) this.port = address.port
  }

  async refuse(): Promise<void> {
    this.mode = 'refusing'
    const server = this.server
    this.server = undefined
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    // destroy(), not resetAndDestroy(): on a socket already half-closed by its
    // peer the reset fails and leaves a handle that keeps node spinning at exit.
    for (const { client, upstream } of this.pairs) {
      client.destroy()
      upstream.destroy()
    }
    await closed
  }

  silence(): void {
    this.mode = 'silent'
  }

  async abandonSilent(): Promise<void> {
    for (const pair of this.pairs) pair.abandoned = true
    await this.open()
  }

  delay(ms: number): void {
    this.delayMs = ms
  }

  async close(): Promise<void> {
    await this.refuse()
  }
}

const skip = await postgresSkipReason()
if (skip) process.stdout.write(`skipping the database outage suite: ${skip}\n`)

describe('gatehouse serve while PostgreSQL is unreachable', { skip: skip ?? false, timeout: 150_000 }, () => {
  let database: TestDatabase
  let dataDir: string
  let relay: Relay
  let server: SpawnedServer | undefined
  let account: Account
  let browser: HttpClient

  before(
    async () => {
      database = await createTestDatabase('postgres')
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-outage-'))
      relay = new Relay()
      await relay.open()
      const throughRelay = new URL(database.url)
      throughRelay.hostname = '127.0.0.1'
      throughRelay.port = String(relay.port)
      // Set up straight at the database; the server alone goes through the relay.
      account = await createAccount({ DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir }, 'ada@example.com')
      server = await startGatehouse({ DATABASE_URL: throughRelay.toString(), GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PRUNE_INTERVAL: '86400' })
      browser = await logInAt(server.url, account.email)
    },
    { timeout: 60_000 },
  )

  after(
    async () => {
      await server?.kill()
      await relay?.close()
      await database?.drop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
    { timeout: 30_000 },
  )

  async function freshTokens(): Promise<TokenPair> {
    return tokensOf(await exchangeCode(server!.url, account, await newCode(browser, account)))
  }

  async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
    const start = Date.now()
    const value = await work()
    return { ms: Date.now() - start, value }
  }

  /** What every kind of client gets while the database is away; each within `boundMs`. */
  async function assertUnavailable(tokens: TokenPair, boundMs: number): Promise<void> {
    const [ready, api, token, page, alive] = await Promise.all([
      timed(() =>
        fetch(`${server!.url}/readyz`, { signal: AbortSignal.timeout(BOUND_MS + 10_000) }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Record<string, unknown>,
        })),
      ),
      timed(() => me(server!.url, tokens.access_token, BOUND_MS + 10_000)),
      timed(() => refresh(server!.url, account, tokens.refresh_token)),
      timed(() => browser.get('/').then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.text() }))),
      timed(() => fetch(`${server!.url}/healthz`).then((r) => r.status)),
    ])
    for (const [what, result] of Object.entries({ ready, api, token, page, alive })) assert.ok(result.ms < boundMs, `${what} took ${result.ms} ms`)

    assert.equal(ready.value.status, 503)
    assert.equal(ready.value.body.status, 'not_ready')

    assert.equal(api.value.status, 503, JSON.stringify(api.value.body))
    assert.equal(api.value.body.error, 'service_unavailable')
    assert.equal(typeof api.value.body.message, 'string')
    assert.ok(api.value.headers.get('retry-after'))

    assert.equal(token.value.status, 503, JSON.stringify(token.value.body))
    assert.equal(token.value.body.error, 'temporarily_unavailable')
    assert.equal(typeof token.value.body.error_description, 'string')
    assert.equal(token.value.headers.get('cache-control'), 'no-store')

    assert.equal(page.value.status, 503)
    assert.match(page.value.type ?? '', /^text\/html/)
    assert.match(page.value.body, /<html/i)

    assert.equal(alive.value, 200, '/healthz says the process is alive all the same')
  }

  /** Back to normal without a restart; the refresh token the outage refused is still good, once. */
  async function assertRecovered(tokens: TokenPair): Promise<void> {
    const ready = await eventually(BOUND_MS, 200, async () => (await fetch(`${server!.url}/readyz`)).status === 200)
    assert.ok(ready, `/readyz did not come back\n${server!.log().slice(-3000)}`)
    assert.ok(server!.isRunning, 'the same process, not a restarted one')
    assert.equal((await me(server!.url, tokens.access_token)).status, 200)
    const renewed = tokensOf(await refresh(server!.url, account, tokens.refresh_token))
    assert.equal((await me(server!.url, renewed.access_token)).status, 200)
    assert.equal((await me(server!.url, tokens.access_token)).status, 401, 'the refresh that went through replaced the old access token')
    assert.equal((await browser.get('/')).status, 200)
  }

  it('answers 503 at once while PostgreSQL refuses connections, and recovers without a restart', async () => {
    const tokens = await freshTokens()
    await relay.refuse()
    try {
      // A refused connection is known at once: no waiting for a timeout.
      await assertUnavailable(tokens, 3000)
    } finally {
      await relay.open()
    }
    await assertRecovered(tokens)
  })

  it('answers 503, and lives on, when the connection drops under a query in flight', async () => {
    const tokens = await freshTokens()
    relay.delay(1000)
    const api = me(server!.url, tokens.access_token)
    const token = refresh(server!.url, account, tokens.refresh_token)
    await sleep(300)
    try {
      await relay.refuse()
      const [apiAnswer, tokenAnswer] = await Promise.all([api, token]).catch((err: Error) =>
        assert.fail(`no answer (${err.message}); the server ${server!.isRunning ? 'runs' : 'died'}:\n${server!.log().slice(-3000)}`),
      )
      assert.equal(apiAnswer.status, 503, JSON.stringify(apiAnswer.body))
      assert.equal(apiAnswer.body.error, 'service_unavailable')
      assert.equal(tokenAnswer.status, 503, JSON.stringify(tokenAnswer.body))
      assert.equal(tokenAnswer.body.error, 'temporarily_unavailable')
      assert.ok(server!.isRunning, `the process died\n${server!.log().slice(-3000)}`)
    } finally {
      relay.delay(0)
      await relay.open()
    }
    await assertRecovered(tokens)
  })

  it('answers 503 within a bounded time while PostgreSQL does not answer at all, and recovers when it does', async () => {
    const tokens = await freshTokens()
    // A pooled connection is open and idle: its next query goes into the silence. (Not
    // through /api/v2/me: a token checked in the last second may be answered from memory.)
    assert.equal((await fetch(`${server!.url}/readyz`)).status, 200)
    relay.silence()
    try {
      await assertUnavailable(tokens, FROZEN_BOUND_MS)
    } finally {
      await relay.open()
    }
    await assertRecovered(tokens)
  })

  it('recovers when PostgreSQL is back but the connections open during the outage never answer again', async () => {
    const tokens = await freshTokens()
    assert.equal((await fetch(`${server!.url}/readyz`)).status, 200)
    relay.silence()
    try {
      await assertUnavailable(tokens, FROZEN_BOUND_MS)
    } finally {
      await relay.abandonSilent()
    }
    await assertRecovered(tokens)
    // Not one lucky answer: every request finds a connection that works.
    for (let i = 0; i < 12; i++) {
      const { ms, value } = await timed(() => fetch(`${server!.url}/readyz`).then((r) => r.status))
      assert.equal(value, 200)
      assert.ok(ms < 1000, `/readyz took ${ms} ms`)
    }
  })

  it('finishes a request in flight on SIGTERM, takes no new ones, then exits 0', async () => {
    const tokens = await freshTokens()
    relay.delay(1500)
    const inFlight = me(server!.url, tokens.access_token)
    await sleep(500)
    server!.child.kill('SIGTERM')
    await sleep(200)
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = connect(server!.port, '127.0.0.1')
      socket.once('connect', () => (socket.destroy(), resolve(undefined)))
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code))
    })
    assert.equal(refused, 'ECONNREFUSED', 'a new connection after SIGTERM is refused')
    const answer = await inFlight
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    assert.equal(answer.body.email, account.email)
    // Soon after: an orchestrator sends SIGKILL once its grace period (often 30 s) is over.
    const exit = await Promise.race([server!.exited, sleep(10_000).then(() => 'still running 10 s after its last answer')])
    assert.deepEqual(exit, { code: 0, signal: null }, server!.log().slice(-3000))
  })
})
