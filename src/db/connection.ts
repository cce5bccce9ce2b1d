import SQLite from 'better-sqlite3'
import { Kysely, PostgresDialect, sql, type LogEvent } from 'kysely'
import type pg from 'pg'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { isDiskFailure } from './errors.js'
import { preparedName } from './prepared.js'
import { BatchingSqliteDriver, batchingSqliteDialect, type SqliteFile, type SqliteRunnable } from './sqlite-batching.js'
import type { Database } from './schema.js'

export type DialectName = 'sqlite' | 'postgres'

export interface Db {
  readonly kysely: Kysely<Database>
  readonly dialect: DialectName
  /** SQLite: a count every revoking write moves, whichever connection or process made it (migration 014). */
  readonly revocationEpoch?: () => number
  /**
   * SQLite: whether writes go through. True until a write fails for want of
   * disk (SQLITE_FULL, an I/O error); from then on a write is tried on each
   * call, and true again once one succeeds.
   */
  readonly writable?: () => Promise<boolean>
  /** How many connections are open and in use, for the metrics. */
  readonly pool: () => PoolUse
  /** PostgreSQL: listens for notifications on a connection of its own, connecting again whenever it drops. */
  readonly listen?: (channel: string, handlers: ListenHandlers) => Promise<Listening>
  close(): Promise<void>
}

export interface PoolUse {
  /** The most connections the pool opens. */
  size: number
  busy: number
  idle: number
  /** Statements waiting for a connection. */
  waiting: number
}

/** A statement that ran: its SQL (placeholders for every value), how long it took, whether it failed. */
export interface StatementRun {
  sql: string
  durationMs: number
  failed: boolean
}

/** Told of every statement run and how long it took; where metrics and traces start. */
export type StatementObserver = (run: StatementRun) => void

export interface ListenHandlers {
  notice(payload: string): void
  /** Listening (again): notices sent while it was not may have been missed. */
  up(): void
  down(): void
}

export interface Listening {
  close(): Promise<void>
}

/** How soon a lost listening connection is tried again. */
const LISTEN_RETRY_MS = 500
/** A listening connection that does not answer a ping this often is taken for lost: a silent network drops no connection. */
const LISTEN_PING_MS = 400
/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'gatehouse revocation listener'

export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError'
}

/** `sqlite:PATH`, `sqlite::memory:` or `postgres://…` (also `postgresql://…`). */
export function dialectOf(url: string): DialectName | undefined {
  if (url.startsWith('sqlite:')) return 'sqlite'
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres'
  return undefined
}

export async function openDatabase(url: string, observer?: StatementObserver): Promise<Db> {
  const dialect = dialectOf(url)
  if (dialect === 'sqlite') return openSqlite(url.slice('sqlite:'.length), observer)
  if (dialect === 'postgres') return openPostgres(url, observer)
  throw new DatabaseUnavailableError(`unsupported database URL scheme (use sqlite:PATH or postgres://…)`)
}

function openSqlite(path: string, observer: StatementObserver | undefined): Db {
  // A mistyped path would otherwise become a new directory and an empty database there.
  if (path !== ':memory:' && !existsSync(dirname(path))) {
    throw new DatabaseUnavailableError(`the directory ${dirname(resolve(path))} of the SQLite file does not exist; create it first`)
  }
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
  // Each transaction is a savepoint inside a batch (sqlite-batching.ts): its undo journal stays in memory.
  file.pragma('temp_store = MEMORY')
  let writesFailing = false
  const driver = new BatchingSqliteDriver(
    path === ':memory:' ? undefined : resolve(path),
    withStatementCache(
      file,
      (err) => {
        if (isDiskFailure(err)) writesFailing = true
      },
      observer,
    ),
  )
  const kysely = new Kysely<Database>({ dialect: batchingSqliteDialect(driver) })
  // Prepared on first use, after the migrations made the table; read synchronously, from memory (see revocation-feed.ts).
  let epoch: SQLite.Statement | undefined
  const revocationEpoch = () => (epoch ??= file.prepare('select n from revocation_epoch').pluck()).get() as number
  const writable = async () => {
    if (!writesFailing) return true
    try {
      await probeWrite(kysely)
      writesFailing = false
    } catch {
      // Still failing: the request that made it failed already said why.
    }
    return !writesFailing
  }
  const pool = () => {
    const { busy, waiting } = driver.use()
    return { size: 1, busy: busy ? 1 : 0, idle: busy ? 0 : 1, waiting }
  }
  return { kysely, dialect: 'sqlite', revocationEpoch, writable, pool, close: () => kysely.destroy() }
}

/** Larger than a page, so it needs pages the database may not be able to get, as a request's writes would. */
const PROBE_BYTES = 64 * 1024

/**
 * A write that changes nothing once done: a row in the migration lock table,
 * which exists in every migrated database, added and removed in one
 * transaction that still has to reach the disk.
 */
async function probeWrite(kysely: Kysely<Database>): Promise<void> {
  await kysely.transaction().execute(async (trx) => {
    await sql`insert into gatehouse_migrations_lock (id, is_locked) values (${`write probe ${'.'.repeat(PROBE_BYTES)}`}, 0)`.execute(trx)
    await sql`delete from gatehouse_migrations_lock where id like 'write probe %'`.execute(trx)
  })
}

/**
 * Kysely prepares every query afresh; preparing costs more than running the
 * small queries of a request. Statements are kept by their SQL text, which
 * Kysely builds with placeholders, so the set of texts is small and fixed.
 * One connection runs one statement at a time, so a kept statement is never
 * in use twice. Writes that fail are told to `writeFailed` (reads cannot
 * fill a disk).
 */
function withStatementCache(file: SQLite.Database, writeFailed: (err: unknown) => void, observer: StatementObserver | undefined, limit = 500): SqliteFile {
  const statements = new Map<string, SqliteRunnable>()
  return {
    get inTransaction() {
      return file.inTransaction
    },
    close: () => file.close(),
    prepare(sqlText: string): SqliteRunnable {
      let statement = statements.get(sqlText)
      if (!statement) {
        statement = watchWrites(file.prepare(sqlText), writeFailed)
        if (observer) statement = timed(statement, sqlText, observer)
        if (statements.size >= limit) statements.delete(statements.keys().next().value!)
        statements.set(sqlText, statement)
      }
      return statement
    },
  }
}

function watchWrites(statement: SQLite.Statement, writeFailed: (err: unknown) => void): SqliteRunnable {
  // SQLite counts COMMIT as read-only: it changes no row, yet it is the write that meets a full disk.
  if (statement.reader && statement.readonly) return statement
  const watched = <T>(run: () => T): T => {
    try {
      return run()
    } catch (err) {
      writeFailed(err)
      throw err
    }
  }
  return {
    reader: statement.reader,
    readonly: statement.readonly,
    all: (parameters) => watched(() => statement.all(parameters)),
    run: (parameters) => watched(() => statement.run(parameters)),
    iterate: (parameters) => statement.iterate(parameters),
  }
}

/**
 * Times each run of the statement where it runs, synchronously: Kysely's
 * log hook would do it too, at the price of an extra async step for every
 * statement.
 */
function timed(statement: SqliteRunnable, sqlText: string, observer: StatementObserver): SqliteRunnable {
  const observe = <T>(run: () => T): T => {
    const started = performance.now()
    let failed = true
    try {
      const result = run()
      failed = false
      return result
    } finally {
      observer({ sql: sqlText, durationMs: performance.now() - started, failed })
    }
  }
  return {
    reader: statement.reader,
    readonly: statement.readonly,
    all: (parameters) => observe(() => statement.all(parameters)),
    run: (parameters) => observe(() => statement.run(parameters)),
    // Rows are read as the caller pulls them: there is no one moment to time.
    iterate: (parameters) => statement.iterate(parameters),
  }
}

const POOL_SIZE = 10

// int8 columns (ids, epoch milliseconds) arrive as strings by default; every
// value we store fits in a double.
const INT8_OID = 20

async function openPostgres(url: string, observer: StatementObserver | undefined): Promise<Db> {
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
    max: POOL_SIZE,
    // Bounded waits of a few seconds: a request fails with 503 rather than
    // hang while the database is away or frozen. The server gives up on a
    // statement before the client does, so a slow but living database
    // cancels it and keeps the connection.
    connectionTimeoutMillis: 3000,
    query_timeout: 5000,
    statement_timeout: 4000,
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
  // A statement's time includes its round trip: Kysely's log hook measures it from the client's side.
  const log = observer && ((event: LogEvent) => observer({ sql: event.query.sql, durationMs: event.queryDurationMillis, failed: event.level === 'error' }))
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) })
  try {
    await sql`select 1`.execute(kysely)
  } catch (err) {
    await kysely.destroy()
    throw new DatabaseUnavailableError(`cannot connect to PostgreSQL: ${(err as Error).message}`)
  }
  const poolUse = () => ({ size: POOL_SIZE, busy: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount })
  return {
    kysely,
    dialect: 'postgres',
    pool: poolUse,
    listen: (channel, handlers) => listen(pg, url, channel, handlers),
    close: () => kysely.destroy(),
  }
}

async function listen(pg: typeof import('pg').default, url: string, channel: string, handlers: ListenHandlers): Promise<Listening> {
  let client: pg.Client | undefined
  let stopped = false
  let retry: NodeJS.Timeout | undefined
  let ping: NodeJS.Timeout | undefined
  const again = () => {
    if (stopped) return
    retry = setTimeout(() => void connect(), LISTEN_RETRY_MS)
    retry.unref()
  }
  const lost = (which: pg.Client) => {
    if (client !== which) return
    client = undefined
    clearInterval(ping)
    which.end().catch(() => {})
    handlers.down()
    again()
  }
  const connect = async () => {
    const candidate = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true, application_name: LISTENER_APPLICATION_NAME })
    candidate.on('error', () => {})
    candidate.on('notification', (message) => {
      if (message.channel === channel) handlers.notice(message.payload ?? '')
    })
    candidate.on('end', () => lost(candidate))
    try {
      await candidate.connect()
      await candidate.query(`listen ${candidate.escapeIdentifier(channel)}`)
    } catch {
      candidate.end().catch(() => {})
      handlers.down()
      again()
      return
    }
    if (stopped) return void candidate.end().catch(() => {})
    client = candidate
    ping = setInterval(() => {
      candidate.query({ text: 'select 1', query_timeout: LISTEN_PING_MS } as pg.QueryConfig).catch(() => lost(candidate))
    }, LISTEN_PING_MS)
    ping.unref()
    handlers.up()
  }
  await connect()
  return {
    async close() {
      stopped = true
      clearTimeout(retry)
      clearInterval(ping)
      const last = client
      client = undefined
      await last?.end().catch(() => {})
    },
  }
}
