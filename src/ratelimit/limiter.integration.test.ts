import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisSkipReason, redisUrl } from '../testing/redis.js'
import { createRateLimiter, type RateLimiter } from './limiter.js'

const skip = await redisSkipReason()
if (skip) process.stdout.write(`skipping the Redis rate-limit suite: ${skip}\n`)

function quietLog() {
  const lines: string[] = []
  return { lines, warn: (m: string) => lines.push(`warn ${m}`), info: (m: string) => lines.push(`info ${m}`) }
}

/** A TCP relay to Redis that the test can cut and restore, to play an outage without touching the real server. */
class Relay {
  private server: Server | undefined
  private sockets = new Set<Socket>()
  port = 0

  async open(): Promise<void> {
    const target = new URL(redisUrl())
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname)
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('error', () => s.destroy())
        s.on('close', () => this.sockets.delete(s))
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve))
    const address = this.server.address()
    if (typeof address === 'object' && address) this.port = address.port
  }

  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server!.close(() => resolve()))
  }
}

describe('rate limits shared through Redis', { skip: skip ?? false }, () => {
  const limiters: RateLimiter[] = []
  after(async () => {
    for (const l of limiters) await l.close()
  })

  it('gives two processes one budget per user from their first request', async () => {
    const a = await createRateLimiter({ limit: 3, windowSeconds: 60 }, redisUrl(), quietLog())
    const b = await createRateLimiter({ limit: 3, windowSeconds: 60 }, redisUrl(), quietLog())
    limiters.push(a, b)
    const key = `user:${randomUUID()}`
    const decisions = [await a.consume(key), await b.consume(key), await a.consume(key), await b.consume(key)]
    assert.deepEqual(
      decisions.map((d) => [d.allowed, d.remaining]),
      [
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ],
    )
  })

  it('keeps answering from memory while Redis is away, says so once, and shares again when it is back', async () => {
    const relay = new Relay()
    await relay.open()
    const log = quietLog()
    const limiter = await createRateLimiter({ limit: 100, windowSeconds: 60 }, `redis://127.0.0.1:${relay.port}`, log)
    const direct = await createRateLimiter({ limit: 100, windowSeconds: 60 }, redisUrl(), quietLog())
    limiters.push(limiter, direct)
    const key = `user:${randomUUID()}`
    assert.equal((await limiter.consume(key)).remaining, 99)
    assert.equal((await direct.consume(key)).remaining, 98, 'both count in Redis')

    await relay.cut()
    await sleep(200)
    for (let i = 0; i < 3; i++) assert.equal((await limiter.consume(key)).allowed, true)
    assert.equal(log.lines.filter((l) => l.startsWith('warn')).length, 1, log.lines.join('\n'))

    await relay.open()
    let shared = false
    for (let i = 0; i < 50 && !shared; i++) {
      await sleep(200)
      const before = (await direct.consume(key)).remaining
      const after = (await limiter.consume(key)).remaining
      shared = after === before - 1
    }
    assert.ok(shared, 'counts in Redis again after it returns')
    assert.ok(
      log.lines.some((l) => l.startsWith('info')),
      log.lines.join('\n'),
    )
    await relay.cut()
  })

  it('logs an outage once per process, not once per limiter, and its end once', async () => {
    // The process's earlier limiters would count as part of the outage.
    for (const earlier of limiters.splice(0)) await earlier.close()
    const relay = new Relay()
    await relay.open()
    const log = quietLog()
    const url = `redis://127.0.0.1:${relay.port}`
    const api = await createRateLimiter({ limit: 100, windowSeconds: 60, namespace: 'api' }, url, log)
    const registration = await createRateLimiter({ limit: 20, windowSeconds: 60, namespace: 'registration' }, url, log)
    limiters.push(api, registration)
    const key = `user:${randomUUID()}`
    await api.consume(key)
    await registration.consume(key)

    await relay.cut()
    await sleep(500)
    await api.consume(key)
    await registration.consume(key)
    assert.deepEqual(log.lines, ['warn Redis is unreachable: rate limits are counted in this process until it returns'])

    await relay.open()
    for (let i = 0; i < 50 && log.lines.length < 2; i++) await sleep(200)
    // Both limiters have had the time to reconnect.
    await sleep(1000)
    assert.deepEqual(log.lines.slice(1), ['info Redis is reachable again: rate limits are shared again'])
    await relay.cut()
  })
})

describe('rate limits with an unreachable Redis', () => {
  it('still answers every request, from memory', async () => {
    const log = quietLog()
    const limiter = await createRateLimiter({ limit: 2, windowSeconds: 60 }, 'redis://127.0.0.1:1', log)
    try {
      const key = `user:${randomUUID()}`
      const decisions = [await limiter.consume(key), await limiter.consume(key), await limiter.consume(key)]
      assert.deepEqual(
        decisions.map((d) => d.allowed),
        [true, true, false],
      )
    } finally {
      await limiter.close()
    }
  })
})
