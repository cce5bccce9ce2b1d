import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, it } from 'node:test'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { openTestDomain, type TestDomain } from '../testing/domain.js'
import { seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { onRevoked } from './revocations.js'
import { insertAccessToken, insertGrant, insertRefreshToken, revokeGrants } from './tokens.js'

await forEachDialect('revoking a grant family', (dialect) => {
  let database: TestDatabase
  let domain: TestDomain
  let ada: SeededUser
  let grace: SeededUser
  let app: SeededClient

  before(async () => {
    database = await createTestDatabase(dialect)
    domain = await openTestDomain(database.url)
    ada = await seedUser(domain.db, 'ada@example.com', { team: 'Engines' })
    grace = await seedUser(domain.db, 'grace@example.com', { team: 'Engines', role: 'member' })
    app = await seedClient(domain, ada)
  })
  after(async () => {
    await domain.close()
    await database.drop()
  })

  function revokeFamily(grantId: string): Promise<number> {
    return domain.db.kysely.transaction().execute((trx) => revokeGrants(trx, { grantId }, domain.clock()))
  }

  /** A grant of `holder`'s with an access token and a refresh token, exchanged from `parent` when given. */
  async function grantOf(holder: SeededUser, parent?: string): Promise<string> {
    const id = randomUUID()
    const now = domain.clock()
    const authority = { clientId: app.id, userId: holder.user.id, teamId: holder.team!.id, scopes: '', resources: '' }
    await insertGrant(domain.db.kysely, { id, ...authority, createdAt: now, ...(parent && { parentGrantId: parent }) })
    const jti = randomUUID()
    await insertAccessToken(domain.db.kysely, { jti, grantId: id, ...authority, createdAt: now, expiresAt: now + 3_600_000 })
    await insertRefreshToken(domain.db.kysely, {
      tokenHash: randomUUID(),
      grantId: id,
      accessTokenJti: jti,
      clientId: app.id,
      createdAt: now,
      expiresAt: now + 86_400_000,
    })
    return id
  }

  /** Each grant's revocation, with its tokens': true when the grant and both tokens are revoked, false when none is. */
  async function revoked(grantId: string): Promise<boolean> {
    const db = domain.db.kysely
    const grant = await db.selectFrom('grants').select('revoked_at').where('id', '=', grantId).executeTakeFirstOrThrow()
    const access = await db.selectFrom('access_tokens').select('revoked_at').where('grant_id', '=', grantId).executeTakeFirstOrThrow()
    const refresh = await db.selectFrom('refresh_tokens').select('revoked_at').where('grant_id', '=', grantId).executeTakeFirstOrThrow()
    const states = [grant, access, refresh].map((row) => row.revoked_at !== null)
    assert.ok(
      states.every((s) => s === states[0]),
      `grant ${grantId} and its tokens agree: ${states.join(', ')}`,
    )
    return states[0]!
  }

  it('ends the grant, every grant exchanged from it down the chain and all their tokens, and nothing else, telling whose tokens ended', async () => {
    const root = await grantOf(ada)
    const child = await grantOf(grace, root)
    const grandchild = await grantOf(ada, child)
    const sibling = await grantOf(ada)
    const stranger = await grantOf(grace, sibling)
    const told: number[][] = []
    const stop = onRevoked(domain.db.kysely, (holders) => told.push(holders === 'all' ? [] : [...holders].sort()))
    try {
      assert.equal(await revokeFamily(root), 3)
    } finally {
      stop()
    }
    for (const id of [root, child, grandchild]) assert.equal(await revoked(id), true)
    for (const id of [sibling, stranger]) assert.equal(await revoked(id), false)
    assert.deepEqual([...new Set(told.flat())].sort(), [ada.user.id, grace.user.id].sort(), 'both holders are told')
  })

  it('ends nothing the second time, and nothing for a grant that does not exist', async () => {
    const root = await grantOf(ada)
    await grantOf(grace, root)
    assert.equal(await revokeFamily(root), 2)
    assert.equal(await revokeFamily(root), 0)
    assert.equal(await revokeFamily(randomUUID()), 0)
  })
})
