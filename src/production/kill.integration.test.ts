import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { hashSecret } from '../crypto/random.js'
import { openDatabase } from '../db/connection.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import {
  createAccount,
  exchangeCode,
  logInAt,
  me,
  newCode,
  refresh,
  startGatehouse,
  tokensOf,
  type Account,
  type OAuthAnswer,
  type SpawnedServer,
  type TokenPair,
} from '../testing/spawned.js'

/** Codes exchanged, and as many refresh tokens used, under load. */
const ITEMS = 60
/** Requests in flight at once: enough that some are cut off by the kill. */
const LANES = 16
/** Acknowledged answers before the kill. */
const KILL_AFTER = 40

interface Item {
  kind: 'code' | 'refresh'
  /** The code, or the refresh token. */
  secret: string
  /** For a refresh token: the access token issued with it. */
  pairedAccessToken?: string
  /** How its request under load ended: answered, cut off by the kill, or (undefined) never sent. */
  load?: OAuthAnswer | 'lost'
  /** Redeemed by a retry after the restart although its request under load was cut off. */
  retried?: boolean
}

async function inParallel<T>(count: number, lanes: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count)
  let next = 0
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) {
        const index = next++
        results[index] = await work(index)
      }
    }),
  )
  return results
}

await forEachDialect('a server killed with SIGKILL in the middle of token requests', (dialect) => {
  let database: TestDatabase
  let dataDir: string
  let settings: Record<string, string>
  let server: SpawnedServer | undefined
  let account: Account
  const items: Item[] = []

  before(
    async () => {
      database = await createTestDatabase(dialect)
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-kill-'))
      // The restarted server listens on another port; the issuer, which tokens carry, stays the same.
      settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_ISSUER: 'http://gatehouse.test', GATEHOUSE_RATE_LIMIT: '100000' }
      server = await startGatehouse(settings)
      account = await createAccount(settings, 'ada@example.com')
      const browser = await logInAt(server.url, account.email)
      const codes = await inParallel(2 * ITEMS, 8, () => newCode(browser, account))
      const pairs = await inParallel(ITEMS, 8, (i) => exchangeCode(server!.url, account, codes[ITEMS + i]!).then(tokensOf))
      for (let i = 0; i < ITEMS; i++) {
        items.push({ kind: 'code', secret: codes[i]! })
        items.push({ kind: 'refresh', secret: pairs[i]!.refresh_token, pairedAccessToken: pairs[i]!.access_token })
      }
    },
    { timeout: 90_000 },
  )

  after(
    async () => {
      await server?.kill()
      await database?.drop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
    { timeout: 30_000 },
  )

  function redeem(url: string, item: Item): Promise<OAuthAnswer> {
    return item.kind === 'code' ? exchangeCode(url, account, item.secret) : refresh(url, account, item.secret)
  }

  it('loses nothing it acknowledged, and redeems no code or refresh token twice', { timeout: 120_000 }, async (t) => {
    const first = server!
    let acknowledged = 0
    let killed: Promise<unknown> | undefined
    let dead = false
    let next = 0
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        // Lanes go on sending until the process is gone: on SQLite the answers of
        // one commit arrive together, so the requests in flight at the kill are
        // the ones sent after it was ordered.
        while (next < items.length && !dead) {
          const item = items[next++]!
          try {
            item.load = await redeem(first.url, item)
            if (++acknowledged === KILL_AFTER) killed = first.kill().then(() => (dead = true))
          } catch {
            // No answer: whether the server committed it before it died is unknown to the client.
            item.load = 'lost'
          }
        }
      }),
    )
    await killed
    const answered = items.filter((i): i is Item & { load: OAuthAnswer } => typeof i.load === 'object')
    const lost = items.filter((i) => i.load === 'lost')
    const unsent = items.filter((i) => i.load === undefined)
    t.diagnostic(`${dialect}: ${answered.length} answered, ${lost.length} cut off by the kill, ${unsent.length} never sent`)
    assert.ok(lost.length > 0, 'the kill came while requests were in flight')
    for (const item of answered) assert.equal(item.load.status, 200, `under load: ${JSON.stringify(item.load.body)}`)

    server = await startGatehouse(settings)
    const url = server.url
    const issued = answered.map((item) => ({ item, tokens: tokensOf(item.load) }))

    // Every access token it acknowledged works after the restart.
    for (const { tokens } of issued) assert.equal((await me(url, tokens.access_token)).status, 200, 'an acknowledged access token works after the restart')
    // An acknowledged refresh ended the access token that came with the refresh token it used.
    for (const { item } of issued)
      if (item.kind === 'refresh') assert.equal((await me(url, item.pairedAccessToken!)).status, 401, 'the access token replaced by an acknowledged refresh')
    // A refresh token never presented still works with its access token.
    for (const item of unsent) if (item.kind === 'refresh') assert.equal((await me(url, item.pairedAccessToken!)).status, 200)

    // Every acknowledged refresh token works exactly once.
    const renewed: TokenPair[] = []
    for (const { tokens } of issued) {
      const once = await refresh(url, account, tokens.refresh_token)
      renewed.push(tokensOf(once))
    }
    for (const tokens of renewed) assert.equal((await me(url, tokens.access_token)).status, 200)
    for (const { tokens } of issued) {
      const twice = await refresh(url, account, tokens.refresh_token)
      assert.equal(twice.status, 400, 'an acknowledged refresh token used a second time')
      assert.equal(twice.body.error, 'invalid_grant')
    }

    // What the client saw redeemed is refused when presented again.
    for (const { item } of issued) {
      const again = await redeem(url, item)
      assert.equal(again.status, 400, `a ${item.kind} whose redemption was acknowledged, presented again`)
      assert.equal(again.body.error, 'invalid_grant')
    }

    // What the kill cut off was redeemed once or not at all: trying again
    // gets tokens only if the first try never committed.
    let redeemedByRetry = 0
    for (const item of lost) {
      const retry = await redeem(url, item)
      assert.ok(retry.status === 200 || (retry.status === 400 && retry.body.error === 'invalid_grant'), JSON.stringify(retry.body))
      if (retry.status === 200) {
        item.retried = true
        redeemedByRetry++
        assert.equal((await me(url, tokensOf(retry).access_token)).status, 200)
      }
      assert.equal((await redeem(url, item)).status, 400, 'and never again after that')
    }
    t.diagnostic(`${dialect}: of the ${lost.length} cut off, ${redeemedByRetry} had not been committed and were redeemed after the restart`)

    // What was never sent is intact, and good once.
    for (const item of unsent) {
      const answer = await redeem(url, item)
      assert.equal(answer.status, 200, `a ${item.kind} never presented before: ${JSON.stringify(answer.body)}`)
      assert.equal((await redeem(url, item)).status, 400)
    }

    // The client cannot tell a request the kill cut off after its commit; the
    // database can: had it committed, the retry would have added a second
    // access token to the grant (beside the one issued with a refresh token).
    const db = await openDatabase(database.url)
    try {
      for (const item of lost.filter((i) => i.retried)) {
        const grantId =
          item.kind === 'code'
            ? (await db.kysely.selectFrom('authorization_codes').select('grant_id').where('code_hash', '=', hashSecret(item.secret)).executeTakeFirstOrThrow())
                .grant_id
            : (await db.kysely.selectFrom('refresh_tokens').select('grant_id').where('token_hash', '=', hashSecret(item.secret)).executeTakeFirstOrThrow())
                .grant_id
        const tokens = await db.kysely.selectFrom('access_tokens').select('jti').where('grant_id', '=', grantId).execute()
        assert.equal(
          tokens.length,
          item.kind === 'code' ? 1 : 2,
          `access tokens of the grant of a ${item.kind} cut off by the kill and redeemed after the restart`,
        )
      }
    } finally {
      await db.close()
    }
  })
})
