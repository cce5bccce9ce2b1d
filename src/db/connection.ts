import SQLite from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import type pg from 'pg'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { preparedName } from './prepared.js'
import type { Database } from './schema.js'

export type DialectName = 'sqlite' | 'postgres'

export interface Db {
  readonly kysely: Kysely<Database>
  readonly dialect: DialectName
  close(): Promise<void>
}

export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError'
}

/** `sqlite:PATH`, `sqlite::memory:` or `postgres://…` (also `postgresql://…`). */
export function dialectOf(url: string): DialectName | undefined {
  if (url.startsWith('sqlite:')) return 'sqlite'
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres'
  return undefined
}

export async function openDatabase(url: string): Promise<Db> {
  const dialect = dialectOf(url)
  if (dialect === 'sqlite') return openSqlite(url.slice('sqlite:'.length))
  if (dialect === 'postgres') return openPostgres(url)
  throw new DatabaseUnavailableError(`unsupported database URL scheme (use sqlite:PATH or postgres://…)`)
}

function openSqlite(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  let file: SQLite.Database
  try {
    file = new SQLite(path)
  } catch (err) {
    throw new DatabaseUnavailableError(`cannot open SQLite file ${path}: ${(err as Error).message}`)
  }
  file.pragma('journal_mode = WAL')
  file.pragma('foreign_keys = ON')
  // Several processes may share one file (workers); wait for a lock rather than fail.
  file.pragma('busy_timeout = 5000')
  file.pragma('synchronous = NORMAL')
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(file) }) })
  return { kysely, dialect: 'sqlite', close: () => kysely.destroy() }
}

/**
 * Kysely prepares every query afresh; preparing costs more than running the
 * small queries of a request. Statements are kept by their SQL text, which
 * Kysely builds with placeholders, so the set of texts is small and fixed.
 * One connection runs one statement at a time, so a kept statement is never
 * in use twice.
 */
function withStatementCache(file: SQLite.Database, limit = 500) {
  const statements = new Map<string, SQLite.Statement>()
  return {
    close: () => file.close(),
    prepare(sqlText: string) {
      let statement = statements.get(sqlText)
      if (!statement) {
        statement = file.prepare(sqlText)
        if (statements.size >= limit) statements.delete(statements.keys().next().value!)
        statements.set(sqlText, statement)
      }
      return statement
    },
  }
}

// int8 columns (ids, epoch milliseconds) arrive as strings by default; every
// value we store fits in a double.
const INT8_OID = 20

async function openPostgres(url: string): Promise<Db> {
  // Loaded only for PostgreSQL, so an embedded deployment does not carry the driver in memory.
  const { default: pg } = await import('pg')
  const pgTypes = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID) return (value: string) => Number(value)
      return pg.types.getTypeParser(oid, format)
    },
  }
  const pool = new pg.Pool({
    connectionString: url,
    types: pgTypes as pg.CustomTypesConfig,
    max: 10,
    // Bounded waits: a request fails with 503 rather than hang while the database is away.
    connectionTimeoutMillis: 5000,
    query_timeout: 15_000,
    statement_timeout: 10_000,
    idleTimeoutMillis: 30_000,
  })
  // A pool emits 'error' when an idle client's connection drops; without a
  // listener that would end the process.
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    // The pool listens for errors only on idle clients. A connection that
    // drops while a client is lent out fails its query (a 503) and is also
    // emitted as 'error' on the client: unheard, that would end the process.
    client.on('error', () => {})
    // After a query timeout pg keeps the client waiting for that query's
    // answer. On a connection that a network failure left open but silent
    // the answer never comes, so every later query on the client would time
    // out too, long after the database is back. Ending the client drops its
    // connection, and the pool forgets it when it is released.
    // Hot-path statements go as named prepared statements (see prepared.ts).
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    Object.assign(client, {
      query: (...args: unknown[]) => {
        const name = typeof args[0] === 'string' ? preparedName(args[0]) : undefined
        const result = name === undefined ? query(...args) : query({ name, text: args[0], values: args[1] })
        if (result instanceof Promise) {
          result.catch((err: unknown) => {
            if (err instanceof Error && err.message === 'Query read timeout') client.end().catch(() => {})
          })
        }
        return result
      },
    })
  })
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  try {
    await sql`select 1`.execute(kysely)
  } catch (err) {
    await kysely.destroy()
    throw new DatabaseUnavailableError(`cannot connect to PostgreSQL: ${(err as Error).message}`)
  }
  return { kysely, dialect: 'postgres', close: () => kysely.destroy() }
}
