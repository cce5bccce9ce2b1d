import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { decodeJwt } from 'jose'
import { sql } from 'kysely'
import { setDisabled } from '../accounts/users.js'
import { deleteClient } from '../clients/clients.js'
import { hashSecret } from '../crypto/random.js'
import type { DialectName } from '../db/connection.js'
import { authorizationCodeGrant } from '../oauth/grants/authorization-code.js'
import { refreshTokenGrant } from '../oauth/grants/refresh-token.js'
import { InvalidGrant } from '../protocol/errors.js'
import { revokeTeamApp } from '../oauth/team-apps.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { issueCode, openTestDomain, type TestDomain } from '../testing/domain.js'
import { REDIRECT, seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { createPersonalAccessToken } from './personal-access-tokens.js'

const INJECTED = 'a statement of the revocation fails'

/** The tables a family's revocation writes: whatever order it writes them in, one of them is written last. */
const FAMILY = ['grants', 'access_tokens', 'refresh_tokens'] as const

/**
 * Makes every change to one table fail, as a crash or a lost connection
 * would between the statements of a revocation. Failing each table in turn
 * makes one of the runs fail the last statement the transaction sends, so
 * the test proves the revocation is one transaction whatever its order.
 */
async function failChanges(domain: TestDomain, dialect: DialectName, table: string): Promise<() => Promise<void>> {
  const db = domain.db.kysely
  if (dialect === 'sqlite') {
    await sql.raw(`create trigger fail_update before update on ${table} begin select raise(abort, '${INJECTED}'); end`).execute(db)
    await sql.raw(`create trigger fail_delete before delete on ${table} begin select raise(abort, '${INJECTED}'); end`).execute(db)
    return async () => {
      await sql.raw('drop trigger fail_update').execute(db)
      await sql.raw('drop trigger fail_delete').execute(db)
    }
  }
  await sql.raw(`create function fail_change() returns trigger language plpgsql as $$ begin raise exception '${INJECTED}'; end $$`).execute(db)
  await sql.raw(`create trigger fail_change before update or delete on ${table} for each row execute function fail_change()`).execute(db)
  return async () => {
    await sql.raw(`drop trigger fail_change on ${table}`).execute(db)
    await sql.raw('drop function fail_change()').execute(db)
  }
}

await forEachDialect('every family revocation is one transaction', (dialect) => {
  let database: TestDatabase
  let domain: TestDomain
  let owner: SeededUser

  before(async () => {
    database = await createTestDatabase(dialect)
    domain = await openTestDomain(database.url)
    owner = await seedUser(domain.db, 'ada@example.com', { team: 'Engines' })
  })
  after(async () => {
    await domain.close()
    await database.drop()
  })

  async function tokensFor(holder: SeededUser, app: SeededClient) {
    const code = await issueCode(domain, { clientId: app.id, userId: holder.user.id, teamId: holder.team!.id, redirectUri: REDIRECT })
    const response = await authorizationCodeGrant(domain, app.client, { code, redirect_uri: REDIRECT }, '203.0.113.5')
    return { code, response }
  }

  /** How many of the user's grants, access tokens and refresh tokens carry a revocation time. */
  async function revokedRows(userId: number): Promise<number> {
    const db = domain.db.kysely
    const grants = await db.selectFrom('grants').select('id').where('user_id', '=', userId).where('revoked_at', 'is not', null).execute()
    const access = await db.selectFrom('access_tokens').select('jti').where('user_id', '=', userId).where('revoked_at', 'is not', null).execute()
    const refresh = await db
      .selectFrom('refresh_tokens')
      .innerJoin('grants', 'grants.id', 'refresh_tokens.grant_id')
      .select('token_hash')
      .where('grants.user_id', '=', userId)
      .where('refresh_tokens.revoked_at', 'is not', null)
      .execute()
    return grants.length + access.length + refresh.length
  }

  /** Runs `revoke` once with each table of the family failing: every run must fail whole, leaving nothing revoked. */
  async function failsWhole(userId: number, revoke: () => Promise<unknown>): Promise<void> {
    const before = await revokedRows(userId)
    for (const table of FAMILY) {
      const restore = await failChanges(domain, dialect, table)
      try {
        await assert.rejects(revoke(), (err: Error) => err.message.includes(INJECTED), `with ${table} failing`)
      } finally {
        await restore()
      }
      assert.equal(await revokedRows(userId), before, `nothing more was revoked with ${table} failing`)
    }
  }

  it('a code replay revokes its family whole or not at all (RFC 6749 §4.1.2)', async () => {
    const user = await seedUser(domain.db, 'code@example.com', { team: 'Engines', role: 'member' })
    const app = await seedClient(domain, owner)
    const { code } = await tokensFor(user, app)
    await failsWhole(user.user.id, () => authorizationCodeGrant(domain, app.client, { code, redirect_uri: REDIRECT }, '203.0.113.5'))
  })

  it('a refresh replay revokes its family whole or not at all (RFC 9700 §4.14.2)', async () => {
    const user = await seedUser(domain.db, 'refresh@example.com', { team: 'Engines', role: 'member' })
    const app = await seedClient(domain, owner)
    const { response } = await tokensFor(user, app)
    await refreshTokenGrant(domain, app.client, { refresh_token: response.refresh_token }, '203.0.113.5')
    await failsWhole(user.user.id, () => refreshTokenGrant(domain, app.client, { refresh_token: response.refresh_token }, '203.0.113.5'))
  })

  it('revoking a Team app is whole or not at all, consents included', async () => {
    const user = await seedUser(domain.db, 'teamapp@example.com', { team: 'Engines', role: 'member' })
    const app = await seedClient(domain, owner)
    await tokensFor(user, app)
    await domain.db.kysely
      .insertInto('consents')
      .values({ user_id: user.user.id, client_id: app.id, team_id: user.team!.id, scopes: '', created_at: domain.clock(), updated_at: domain.clock() })
      .execute()
    await failsWhole(user.user.id, () =>
      revokeTeamApp(domain.db, domain.activity, { clientId: app.id, teamId: user.team!.id, by: { userId: owner.user.id, role: 'owner' } }, domain.clock()),
    )
    const consents = await domain.db.kysely.selectFrom('consents').select('user_id').where('client_id', '=', app.id).execute()
    assert.equal(consents.length, 1, 'the consent is still on file')
  })

  it('deleting a client takes its grants and tokens with it, or nothing', async () => {
    const user = await seedUser(domain.db, 'client@example.com', { team: 'Engines', role: 'member' })
    const app = await seedClient(domain, owner)
    await tokensFor(user, app)
    await failsWhole(user.user.id, () => deleteClient(domain.db, app.id))
    const grants = await domain.db.kysely.selectFrom('grants').select('id').where('client_id', '=', app.id).execute()
    assert.equal(grants.length, 1, 'the grant is still there')
  })

  it('disabling a user is whole or not at all: the user stays enabled and keeps every token', async () => {
    const user = await seedUser(domain.db, 'disable@example.com', { team: 'Engines', role: 'member' })
    const app = await seedClient(domain, owner)
    await tokensFor(user, app)
    await createPersonalAccessToken(domain.db, { userId: user.user.id, teamId: user.team!.id, name: 'ci' }, domain.clock())
    await failsWhole(user.user.id, () => setDisabled(domain.db, 'disable@example.com', true, domain.clock()))
    const row = await domain.db.kysely.selectFrom('users').select('is_disabled').where('id', '=', user.user.id).executeTakeFirstOrThrow()
    assert.equal(row.is_disabled, 0)
    const pats = await domain.db.kysely.selectFrom('personal_access_tokens').select('id').where('user_id', '=', user.user.id).execute()
    assert.equal(pats.length, 1)
  })

  it("when two refreshes of one refresh token race, one wins, and the other, a replay, ends the winner's new tokens too (RFC 9700 §4.14.2)", async () => {
    const user = await seedUser(domain.db, 'race@example.com', { team: 'Engines', role: 'member' })
    const app = await seedClient(domain, owner)
    const { response } = await tokensFor(user, app)
    const refresh = () => refreshTokenGrant(domain, app.client, { refresh_token: response.refresh_token }, '203.0.113.5')
    const results = await Promise.allSettled([refresh(), refresh()])
    const won = results.filter((r) => r.status === 'fulfilled').map((r) => r.value)
    assert.equal(won.length, 1, 'exactly one refresh wins')
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof InvalidGrant, String(r.reason))
    const winner = won[0]!
    const db = domain.db.kysely
    const access = await db
      .selectFrom('access_tokens')
      .select('revoked_at')
      .where('jti', '=', String(decodeJwt(winner.access_token).jti))
      .executeTakeFirstOrThrow()
    const refreshRow = await db
      .selectFrom('refresh_tokens')
      .select('revoked_at')
      .where('token_hash', '=', hashSecret(winner.refresh_token))
      .executeTakeFirstOrThrow()
    assert.notEqual(access.revoked_at, null, "the winner's new access token is revoked")
    assert.notEqual(refreshRow.revoked_at, null, "the winner's new refresh token is revoked")
    await assert.rejects(refreshTokenGrant(domain, app.client, { refresh_token: winner.refresh_token }, '203.0.113.5'), InvalidGrant)
  })
})
