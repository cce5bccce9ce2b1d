import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { insertAuthorizationCode } from '../db/authorization-codes.js'
import { openDatabase, type Db } from '../db/connection.js'
import { insertAccessToken, insertGrant, insertRefreshToken } from '../db/tokens.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { createAccount, eventually, gatehouseJson, startGatehouse, type Account, type SpawnedServer } from '../testing/spawned.js'

/** More than one batch of the janitor (500 rows), so it must come back for the rest. */
const EXPIRED_CODES = 1200

await forEachDialect('the background janitor of gatehouse serve', (dialect) => {
  let database: TestDatabase
  let dataDir: string
  let settings: Record<string, string>
  let server: SpawnedServer | undefined
  let db: Db
  let account: Account
  let teamId: number

  before(
    async () => {
      database = await createTestDatabase(dialect)
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-janitor-'))
      settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir }
      account = await createAccount(settings, 'ada@example.com')
      db = await openDatabase(database.url)
      teamId = (await db.kysely.selectFrom('memberships').select('team_id').where('user_id', '=', account.userId).executeTakeFirstOrThrow()).team_id
    },
    { timeout: 60_000 },
  )

  after(
    async () => {
      await server?.kill()
      await db?.close()
      await database?.drop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
    { timeout: 30_000 },
  )

  async function seed(prefix: string, now: number, expiredCodes: number): Promise<void> {
    const { clientId, userId } = account
    const code = (hash: string, expiresAt: number) => ({
      codeHash: hash,
      clientId,
      userId,
      teamId,
      redirectUri: account.redirectUri,
      scopes: '',
      codeChallenge: null,
      grantId: hash,
      createdAt: now - 700_000,
      expiresAt,
    })
    await db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i < expiredCodes; i++) await insertAuthorizationCode(trx, code(`${prefix}-expired-code-${i}`, now - 100_000))
    })
    await insertAuthorizationCode(db.kysely, code(`${prefix}-live-code`, now + 500_000))

    const grantId = `${prefix}-grant`
    const longAgo = now - 10_000_000
    await insertGrant(db.kysely, { id: grantId, clientId, userId, teamId, scopes: '', createdAt: longAgo })
    for (const [name, expiresAt] of [
      ['expired', now - 1000],
      ['live', now + 3_600_000],
    ] as const) {
      const jti = `${prefix}-${name}-token`
      await insertAccessToken(db.kysely, { jti, grantId, clientId, userId, teamId, scopes: '', createdAt: longAgo, expiresAt })
      await insertRefreshToken(db.kysely, { tokenHash: `${prefix}-${name}-refresh`, grantId, accessTokenJti: jti, clientId, createdAt: longAgo, expiresAt })
    }
  }

  async function left(prefix: string) {
    const like = `${prefix}-%`
    const [codes, tokens, refreshTokens] = await Promise.all([
      db.kysely.selectFrom('authorization_codes').select('code_hash as id').where('code_hash', 'like', like).execute(),
      db.kysely.selectFrom('access_tokens').select('jti as id').where('jti', 'like', like).execute(),
      db.kysely.selectFrom('refresh_tokens').select('token_hash as id').where('token_hash', 'like', like).execute(),
    ])
    return { codes: codes.length, tokens: tokens.map((r) => r.id).sort(), refreshTokens: refreshTokens.map((r) => r.id).sort() }
  }

  it('deletes expired codes and tokens while it serves, more than a batch in one run, and keeps live ones', { timeout: 60_000 }, async () => {
    await seed('bg', Date.now(), EXPIRED_CODES)
    server = await startGatehouse({ ...settings, GATEHOUSE_PRUNE_INTERVAL: '1' })
    // The janitor logs once a run is over.
    const ran = await eventually(15_000, 100, async () => server!.log().includes('"pruned expired rows"'))
    assert.ok(ran, `no prune run was logged; left: ${JSON.stringify(await left('bg'))}\n${server.log().slice(-2000)}`)
    assert.deepEqual(await left('bg'), { codes: 1, tokens: ['bg-live-token'], refreshTokens: ['bg-live-refresh'] })
    // One run took them all, batch after batch, rather than one batch a run.
    const firstRun = server
      .log()
      .split('\n')
      .filter((line) => line.includes('"pruned expired rows"'))
      .map((line) => JSON.parse(line) as { pruned: Record<string, number> })[0]
    assert.ok(firstRun, server.log().slice(-2000))
    assert.equal(firstRun.pruned.authorization_codes, EXPIRED_CODES)
    assert.equal(firstRun.pruned.access_tokens, 1)
    assert.equal(firstRun.pruned.refresh_tokens, 1)
  })

  it('does the same on demand with gatehouse tokens prune', { timeout: 30_000 }, async () => {
    // With the server stopped its janitor cannot get there first.
    assert.deepEqual(await server!.stop(), { code: 0, signal: null })
    await seed('cli', Date.now(), 3)
    const { deleted } = (await gatehouseJson(['tokens', 'prune'], settings)) as { deleted: Record<string, number> }
    assert.equal(deleted.authorization_codes, 3)
    assert.equal(deleted.access_tokens, 1)
    assert.equal(deleted.refresh_tokens, 1)
    assert.deepEqual(await left('cli'), { codes: 1, tokens: ['cli-live-token'], refreshTokens: ['cli-live-refresh'] })
  })
})
