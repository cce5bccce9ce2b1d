import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { createUser } from '../accounts/users.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { gatehouseJson, PASSWORD, runGatehouse } from '../testing/spawned.js'

/** `gatehouse trusted-issuers add`, `list` and `delete`, against each database. */
await forEachDialect('gatehouse trusted-issuers', (dialect) => {
  let database: TestDatabase
  let db: Db
  let dir: string
  let settings: Record<string, string>

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-issuers-'))
    database = await createTestDatabase(dialect)
    db = await openDatabase(database.url)
    await migrateToLatest(db)
    await createUser(db, { email: 'ada@example.com', name: 'Ada', password: PASSWORD, teamName: 'Engines' }, Date.now())
    settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dir }
  })
  after(async () => {
    await db?.close()
    await database?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('adds, lists and deletes a trusted issuer for a team; refuses an issuer that is not https', async () => {
    const added = await gatehouseJson(
      ['trusted-issuers', 'add', '--issuer', 'https://idp.example.com', '--jwks-uri', 'https://idp.example.com/jwks', '--team', 'Engines'],
      settings,
    )
    assert.equal(added.issuer, 'https://idp.example.com')
    assert.equal(added.jwks_uri, 'https://idp.example.com/jwks')
    const listed = (await gatehouseJson(['trusted-issuers', 'list'], settings)) as unknown as Record<string, unknown>[]
    assert.deepEqual(
      listed.map((t) => t.issuer),
      ['https://idp.example.com'],
    )
    const refused = await runGatehouse(
      ['trusted-issuers', 'add', '--issuer', 'http://idp.example.com', '--jwks-uri', 'https://idp.example.com/jwks', '--team', 'Engines'],
      settings,
    )
    assert.notEqual(refused.code, 0)
    assert.match(refused.stderr, /https/)
    const deleted = await gatehouseJson(['trusted-issuers', 'delete', '--id', String(added.id)], settings)
    assert.equal(deleted.deleted, true)
    assert.deepEqual(await gatehouseJson(['trusted-issuers', 'list'], settings), [])
  })
})
