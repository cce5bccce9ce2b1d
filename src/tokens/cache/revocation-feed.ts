import type { Db, Listening } from '../../db/connection.js'
import { onRevoked, REVOCATION_CHANNEL, type RevokedHolders } from '../../db/revocations.js'
import type { Logger } from '../../logger.js'
import type { ChangeFeed, VerifiedTokenCache } from './verified-cache.js'
import { revocationNoticeLag, revocationNotices } from '../../observability/metrics.js'

export interface RevocationFeed {
  close(): Promise<void>
}

/**
 * How often a process on SQLite reads the revocation epoch: another
 * process's revocation reaches it within this, and the read is off the
 * path of all but one cached answer in thousands.
 */
const EPOCH_READ_MS = 100

interface Notice {
  holders: RevokedHolders
  /** When the revocation was written, in milliseconds since 1970, if the notice says. */
  writtenAt: number | undefined
}

/**
 * A notice's payload: when it was written and whose tokens it concerns,
 * `<ms>;<user ids joined by commas>`, or `*` for everyone (migration 027).
 * Anything else is taken to concern everyone.
 */
function parseNotice(payload: string): Notice {
  const split = payload.indexOf(';')
  const stamp = split === -1 ? undefined : Number(payload.slice(0, split))
  const writtenAt = stamp !== undefined && Number.isSafeInteger(stamp) ? stamp : undefined
  const list = payload.slice(split + 1)
  if (list === '*') return { holders: 'all', writtenAt }
  const ids = list.split(',').map(Number)
  return { holders: ids.every(Number.isSafeInteger) ? ids : 'all', writtenAt }
}

function formatNotice(holders: RevokedHolders, writtenAt: number): string {
  return `${writtenAt};${holders === 'all' ? '*' : holders.join(',')}`
}

function observeLag(lag: { observe(seconds: number): void }, notice: Notice): void {
  if (notice.writtenAt !== undefined) lag.observe(Math.max(0, Date.now() - notice.writtenAt) / 1000)
}

/**
 * Keeps the cache of verified tokens true to the database: this process's
 * own revocations at once; other processes' through PostgreSQL's
 * `LISTEN gatehouse_revoked` (every revoking write notifies, see migration
 * 013), through Redis pub/sub when REDIS_URL is set, and on SQLite by the
 * revocation epoch the same writes move, read before a lookup at most every
 * EPOCH_READ_MS. While a channel is down the
 * cache trusts nothing older than a second; when it is back, the cache
 * starts afresh, as notices may have been missed in between.
 */
export async function startRevocationFeed(
  cache: VerifiedTokenCache,
  db: Db,
  options: { redisUrl: string | undefined; namespace: string; log: Logger },
): Promise<RevocationFeed> {
  const down = new Set<string>()
  const warned = new Set<string>()
  // A connection this process closes itself is no trouble to report.
  let closing = false
  const channel = (name: string) => ({
    up() {
      if (!down.delete(name)) return
      cache.forget('all')
      if (warned.delete(name)) options.log.info(`revocation notices by ${name} are back`)
    },
    down() {
      down.add(name)
      if (closing || warned.has(name)) return
      warned.add(name)
      options.log.warn(`revocation notices by ${name} are lost: tokens are checked in the database again after a second`)
    },
  })
  let seenEpoch = db.revocationEpoch?.()
  // Real time, whatever clock the tokens are judged by: this paces reads.
  let epochReadAt = Date.now()
  const feed: ChangeFeed = {
    get live() {
      return down.size === 0
    },
    catchUp() {
      if (!db.revocationEpoch) return
      const now = Date.now()
      if (now - epochReadAt < EPOCH_READ_MS) return
      epochReadAt = now
      const epoch = db.revocationEpoch()
      if (epoch === seenEpoch) return
      seenEpoch = epoch
      cache.forget('all')
    },
  }
  cache.attach(feed)

  const closers: (() => Promise<void>)[] = []
  const publishers: ((holders: RevokedHolders) => void)[] = []
  const stopLocal = onRevoked(db.kysely, (holders, pending) => {
    revocationNotices.local.inc()
    cache.forget(holders, pending)
    for (const publish of publishers) publish(holders)
  })
  closers.push(async () => stopLocal())

  if (db.listen) {
    const pg = channel('PostgreSQL')
    const listening: Listening = await db.listen(REVOCATION_CHANNEL, {
      notice: (payload) => {
        revocationNotices.postgres.inc()
        const notice = parseNotice(payload)
        observeLag(revocationNoticeLag.postgres, notice)
        cache.forget(notice.holders)
      },
      up: pg.up,
      down: pg.down,
    })
    closers.push(() => listening.close())
  }

  if (options.redisUrl) {
    const topic = `${options.namespace} revoked`
    const redis = channel('Redis')
    // Loaded only when Redis is configured, to keep a single process small.
    const { Redis } = await import('ioredis')
    const settings = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 1000 }
    const subscriber = new Redis(options.redisUrl, { ...settings, lazyConnect: true })
    const publisher = new Redis(options.redisUrl, settings)
    publisher.on('error', () => {})
    subscriber.on('error', () => redis.down())
    subscriber.on('close', () => redis.down())
    // ioredis subscribes again by itself after reconnecting; 'ready' comes once it has.
    subscriber.on('ready', () => redis.up())
    subscriber.on('message', (from: string, payload: string) => {
      // Published as the revocation was written, maybe before it committed.
      if (from !== topic) return
      revocationNotices.redis.inc()
      const notice = parseNotice(payload)
      observeLag(revocationNoticeLag.redis, notice)
      cache.forget(notice.holders, true)
    })
    down.add('Redis')
    try {
      await subscriber.connect()
      await subscriber.subscribe(topic)
      redis.up()
    } catch {
      // Down until it connects; the cache meanwhile trusts nothing older than a second.
    }
    publishers.push((holders) => void publisher.publish(topic, formatNotice(holders, Date.now())).catch(() => {}))
    closers.push(async () => {
      subscriber.disconnect()
      publisher.disconnect()
    })
  }

  return {
    async close() {
      closing = true
      for (const close of closers.reverse()) await close()
    },
  }
}
