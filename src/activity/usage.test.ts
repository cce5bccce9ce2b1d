import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { pruneExpired } from '../tokens/prune.js'
import { BufferedApiUsage, MINUTE_MS, usageSince, type UsageSource } from './usage.js'

const silent = { info() {}, warn() {}, error() {} }
const START = Date.UTC(2026, 11, 1, 9, 0, 0)

describe('API usage counts', () => {
  let db: Db
  let now = START
  const clock = () => now
  const source: UsageSource = { tokenId: 'jti-1', teamId: 1, userId: 7, clientId: 'app-1', personalAccessTokenId: null }

  before(async () => {
    db = await openDatabase('sqlite::memory:')
    await migrateToLatest(db)
  })
  after(() => db.close())

  it('adds the calls of every process to one row per token and minute, keeping the latest call', async () => {
    // Two processes counting the same token in the same minute.
    const one = new BufferedApiUsage(db, clock, silent, 60_000)
    const two = new BufferedApiUsage(db, clock, silent, 60_000)
    one.count(source, 'GET /api/v2/me', 200)
    now += 1_000
    two.count(source, 'GET /api/v2/team', 404)
    now += 1_000
    one.count(source, 'GET /api/v2/me', 200)
    await two.flush()
    await one.flush()
    now += MINUTE_MS
    one.count(source, 'GET /api/v2/activities', 200)
    await one.close()
    await two.close()

    const rows = await db.kysely.selectFrom('api_usage').selectAll().orderBy('minute').execute()
    assert.deepEqual(
      rows.map((r) => [r.token_id, r.minute, r.calls, r.last_path, r.last_status]),
      [
        ['jti-1', START, 3, 'GET /api/v2/me', 200],
        ['jti-1', START + MINUTE_MS, 1, 'GET /api/v2/activities', 200],
      ],
    )
    const [summary] = await usageSince(db, { teamId: 1, since: START, limit: 10 })
    assert.deepEqual(summary, {
      userId: 7,
      clientId: 'app-1',
      personalAccessTokenId: null,
      calls: 4,
      lastAt: new Date(now),
      lastPath: 'GET /api/v2/activities',
      lastStatus: 200,
    })
    assert.deepEqual(await usageSince(db, { teamId: 2, since: START, limit: 10 }), [], 'per team')
  })

  it('is pruned with the activity log once older than its retention', async () => {
    now = START + 91 * 24 * 3600 * 1000
    const counts = await pruneExpired({
      db,
      config: { accessTokenTtlSeconds: 3600, idTokenTtlSeconds: 3600, activityRetentionDays: 90, registeredClientTtlDays: 90 },
      clock,
    })
    assert.equal(counts.api_usage, 2)
    assert.equal((await db.kysely.selectFrom('api_usage').selectAll().execute()).length, 0)
  })
})
