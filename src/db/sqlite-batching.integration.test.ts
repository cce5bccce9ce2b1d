import assert from 'node:assert/strict'
import SQLite from 'better-sqlite3'
import { sql, type Generated, type Kysely } from 'kysely'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { openDatabase, type Db, type StatementRun } from './connection.js'

interface Notes {
  notes: { id: Generated<number>; body: string }
}

describe('commits grouped on SQLite', () => {
  let database: TestDatabase
  let db: Db
  let statements: string[]
  /** What another process would read from the file: only what was committed. */
  let outsider: SQLite.Database

  beforeEach(async () => {
    database = await createTestDatabase('sqlite')
    statements = []
    db = await openDatabase(database.url, (run: StatementRun) => statements.push(run.sql))
    await sql`create table notes (id integer primary key, body text not null unique)`.execute(db.kysely)
    outsider = new SQLite(database.url.slice('sqlite:'.length))
    statements = []
  })
  afterEach(async () => {
    outsider.close()
    await db.close()
    await database.drop()
  })

  const k = () => db.kysely as unknown as Kysely<Notes>
  const stored = () => outsider.prepare('select body from notes order by body').pluck().all() as string[]
  const commits = () => statements.filter((text) => text === 'commit').length
  const add = (body: string) => k().insertInto('notes').values({ body }).execute()
  const addInTransaction = (...bodies: string[]) =>
    k()
      .transaction()
      .execute(async (trx) => {
        for (const body of bodies) await trx.insertInto('notes').values({ body }).execute()
      })

  it('commits the transactions of one turn of the event loop together, each whole', async () => {
    await Promise.all([addInTransaction('a1', 'a2'), addInTransaction('b1'), add('c1'), addInTransaction('d1', 'd2', 'd3')])
    assert.equal(commits(), 1)
    assert.deepEqual(stored(), ['a1', 'a2', 'b1', 'c1', 'd1', 'd2', 'd3'])
  })

  it('answers a write only once its batch is committed, so no one hears of a write that can still be lost', async () => {
    await Promise.all(
      ['a', 'b', 'c'].map(async (body) => {
        await (body === 'b' ? add(body) : addInTransaction(body))
        assert.ok(stored().includes(body), `${body} answered before it was committed`)
      }),
    )
  })

  it('rolls back a failed transaction alone: the rest of its batch commits', async () => {
    const results = await Promise.allSettled([
      addInTransaction('a'),
      k()
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('notes').values({ body: 'b1' }).execute()
          throw new Error('changed its mind')
        }),
      addInTransaction('c1', 'a'),
      add('d'),
      add('d'),
    ])
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected'],
    )
    assert.equal(commits(), 1)
    assert.deepEqual(stored(), ['a', 'd'])
  })

  it('reads inside a batch see its writes before they are committed', async () => {
    const [, seen] = await Promise.all([add('a'), k().selectFrom('notes').select('body').execute()])
    assert.deepEqual(seen, [{ body: 'a' }])
    const read = statements.findIndex((text) => text.startsWith('select'))
    assert.ok(read >= 0 && read < statements.indexOf('commit'), statements.join('\n'))
  })

  const bodies = async () => (await k().selectFrom('notes').select('body').orderBy('body').execute()).map((row) => row.body)
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

  it('reads of one turn made outside a batch share one read transaction: what another process commits meanwhile shows from the next turn', async () => {
    await add('a')
    await nextTurn()
    statements = []
    assert.deepEqual(await bodies(), ['a'])
    outsider.prepare(`insert into notes (body) values ('b')`).run()
    assert.deepEqual(await bodies(), ['a'])
    assert.equal(statements.filter((text) => text === 'begin deferred').length, 1, statements.join('\n'))
    await nextTurn()
    assert.deepEqual(await bodies(), ['a', 'b'])
  })

  it('a write ends the turn’s read transaction before its batch begins, so it writes on what another process committed', async () => {
    await add('a')
    await nextTurn()
    assert.deepEqual(await bodies(), ['a'])
    outsider.prepare(`insert into notes (body) values ('b')`).run()
    await addInTransaction('c')
    await add('d')
    assert.deepEqual(stored(), ['a', 'b', 'c', 'd'])
    assert.deepEqual(await bodies(), ['a', 'b', 'c', 'd'])
  })

  it('when the database is full, answers a write as done only if it is stored', async () => {
    await sql`pragma max_page_count = ${sql.raw(String(outsider.prepare('pragma page_count').pluck().get()))}`.execute(db.kysely)
    const big = 'x'.repeat(64 * 1024)
    const bodies = ['a', 'b', big, 'c']
    const results = await Promise.allSettled([addInTransaction('a'), add('b'), addInTransaction(big), add('c')])
    assert.match(String((results[2] as PromiseRejectedResult).reason), /full/)
    const kept = stored()
    bodies.forEach((body, i) => assert.equal(results[i]!.status === 'fulfilled', kept.includes(body), body.slice(0, 8)))
    await sql`pragma max_page_count = 1000000`.execute(db.kysely)
    await addInTransaction('after')
    assert.ok(stored().includes('after'))
  })

  it('lets a second connection of the same process write while the first has a batch open, without SQLITE_BUSY', async () => {
    const second = await openDatabase(database.url)
    try {
      const other = second.kysely as unknown as Kysely<Notes>
      await Promise.all([add('a'), other.insertInto('notes').values({ body: 'b' }).execute(), addInTransaction('c')])
      assert.deepEqual(stored(), ['a', 'b', 'c'])
    } finally {
      await second.close()
    }
  })

  it('ends an open batch or read transaction before a PRAGMA, which would do nothing or fail inside a transaction', async () => {
    const results = await Promise.all([
      bodies(),
      sql`pragma foreign_keys = off`.execute(db.kysely),
      add('a'),
      bodies(),
      sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(db.kysely),
      add('b'),
    ])
    assert.equal(results[4].rows[0]!.busy, 0)
    const state = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db.kysely)
    assert.equal(state.rows[0]!.foreign_keys, 0)
    assert.deepEqual(stored(), ['a', 'b'])
  })
})
