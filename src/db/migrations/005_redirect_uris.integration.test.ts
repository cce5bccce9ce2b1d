import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { createUser } from '../../accounts/users.js'
import { registerClient } from '../../clients/clients.js'
import { deriveKeys } from '../../crypto/master-key.js'
import { createTestDatabase, type TestDatabase } from '../../testing/databases.js'
import { forEachDialect } from '../../testing/dialects.js'
import { openDatabase, type Db } from '../connection.js'
import { migrateToLatest } from '../migrate.js'
import { redirectUris } from './005_redirect_uris.js'

await forEachDialect('migration 005_redirect_uris', (dialect) => {
  let database: TestDatabase
  let db: Db

  before(async () => {
    database = await createTestDatabase(dialect)
    db = await openDatabase(database.url)
    await migrateToLatest(db)
  })
  after(async () => {
    await db.close()
    await database.drop()
  })

  it('takes stored redirect URLs that could be misread off their client, keeps the client and the good URLs, and logs each removal (RFC 9700 §4.1.3)', async () => {
    const now = Date.now()
    const { user, team } = await createUser(db, { email: 'ada@example.com', name: 'Ada', password: 'correct horse battery', teamName: 'Engines' }, now)
    const keys = deriveKeys('test-secret-test-secret-test-secret-0123')
    const register = (name: string) =>
      registerClient(db, keys, { name, redirectUris: ['https://placeholder.example/cb'], ownerUserId: user.id, teamId: team!.id }, now)
    const mixed = (await register('Mixed')).client
    const onlyBad = (await register('Only bad')).client
    const clean = (await register('Clean')).client
    const bad = ['https://app.example/c\r\nSet-Cookie: x=1', 'https://ap\tp.example/cb', 'https:///cb', 'https://App.example/cb']
    const store = (id: string, uris: string[]) =>
      db.kysely
        .updateTable('clients')
        .set({ redirect_uris: JSON.stringify(uris) })
        .where('id', '=', id)
        .execute()
    await store(mixed.id, ['https://good.example/cb', ...bad, 'http://127.0.0.1/cb'])
    await store(onlyBad.id, [bad[0]!])

    await redirectUris().up(db.kysely as never)

    const stored = async (id: string) => {
      const row = await db.kysely.selectFrom('clients').select('redirect_uris').where('id', '=', id).executeTakeFirst()
      return row && (JSON.parse(row.redirect_uris) as string[])
    }
    assert.deepEqual(await stored(mixed.id), ['https://good.example/cb', 'http://127.0.0.1/cb'])
    assert.deepEqual(await stored(onlyBad.id), [], 'the client is kept, without the URL')
    assert.deepEqual(await stored(clean.id), ['https://placeholder.example/cb'])

    const logged = await db.kysely
      .selectFrom('activities')
      .select(['client_id', 'team_id', 'detail'])
      .where('action', '=', 'client.redirect_uri_removed')
      .orderBy('id')
      .execute()
    assert.deepEqual(
      logged.map((r) => [r.client_id, Number(r.team_id), r.detail]),
      [...bad.map((uri) => [mixed.id, team!.id, JSON.stringify(uri)]), [onlyBad.id, team!.id, JSON.stringify(bad[0])]],
    )
  })
})
