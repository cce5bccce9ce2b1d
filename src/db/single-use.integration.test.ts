import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { issueCodeFor, openTestDomain, type TestDomain } from '../testing/domain.js'
import { seedClient, seedUser } from '../testing/fixtures.js'
import { hashSecret } from '../crypto/random.js'
import { openDatabase, type Db } from './connection.js'
import { consume } from './single-use.js'

await forEachDialect('consume: the single-use primitive (RFC 6749 §4.1.2)', (dialect) => {
  let database: TestDatabase
  let domain: TestDomain
  /** More connections to the same database, as other processes would hold. */
  let others: Db[]
  let codeFor: () => Promise<string>

  before(async () => {
    database = await createTestDatabase(dialect)
    domain = await openTestDomain(database.url)
    others = await Promise.all(Array.from({ length: 4 }, () => openDatabase(database.url)))
    const ada = await seedUser(domain.db, 'ada@example.com', { team: 'Engines' })
    const app = await seedClient(domain, ada)
    codeFor = () => issueCodeFor(domain, ada, app)
  })
  after(async () => {
    await Promise.all(others.map((db) => db.close()))
    await domain.close()
    await database.drop()
  })

  it('is true once, then false for every later caller', async () => {
    const hash = hashSecret(await codeFor())
    assert.equal(await consume(domain.db.kysely, 'authorization_code', hash, domain.clock()), true)
    assert.equal(await consume(domain.db.kysely, 'authorization_code', hash, domain.clock()), false)
  })

  it('is true for exactly one of many callers racing on several connections to one database', async () => {
    const hash = hashSecret(await codeFor())
    const connections = [domain.db, ...others]
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => consume(connections[i % connections.length]!.kysely, 'authorization_code', hash, domain.clock())),
    )
    assert.equal(results.filter(Boolean).length, 1)
  })

  it('is false for an unknown secret', async () => {
    assert.equal(await consume(domain.db.kysely, 'refresh_token', hashSecret('never issued'), domain.clock()), false)
  })
})
