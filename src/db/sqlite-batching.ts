import type { RunResult } from 'better-sqlite3'
import {
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely'

/** A prepared statement as the driver runs it. */
export interface SqliteRunnable {
  /** Returns rows. */
  readonly reader: boolean
  /** Changes nothing in the database. */
  readonly readonly: boolean
  all(parameters: readonly unknown[]): unknown[]
  run(parameters: readonly unknown[]): RunResult
  iterate(parameters: readonly unknown[]): IterableIterator<unknown>
}

/** The one connection to the file: statements by their SQL text, and whether a transaction is open. */
export interface SqliteFile {
  prepare(sqlText: string): SqliteRunnable
  readonly inTransaction: boolean
  close(): void
}

/** How the one connection is used, for the metrics. */
export interface ConnectionUse {
  busy: boolean
  /** Requests waiting for the connection. */
  waiting: number
}

const SAVEPOINT = 'gatehouse_write'
/** A read snapshot's own statements, told apart from a batch's `commit` in the statement log. */
const BEGIN_READ = 'begin deferred'
const END_READ = 'commit transaction'
/** More than the leases out at once in practice: one holds the connection, the others wait for their batch. */
const SPARE_LEASES = 64

/**
 * Per file, the commit of the batch that a connection of this process has
 * open. SQLite makes a second connection wait for the write lock by sleeping
 * (busy_timeout), which would stop the event loop the first one needs to
 * reach its commit: a connection waits for the other's commit here instead.
 */
const openBatches = new Map<string, Promise<void>>()
/** PRAGMAs run on their own: some do nothing inside a transaction, a checkpoint fails in one. */
const OUTSIDE_TRANSACTIONS = /^\s*pragma\b/i

/**
 * Kysely's driver for SQLite with commits grouped: the writes of every
 * request that reaches the database in one turn of the event loop go into
 * one transaction, committed once at the end of the turn. Each of
 * Gatehouse's transactions runs inside it as a savepoint, so it still
 * commits whole or rolls back alone; a write outside a transaction is one
 * statement, which SQLite undoes alone when it fails.
 *
 * A commit is most of a write's cost on SQLite: it takes the WAL's locks and
 * writes every page the transaction touched, and the pages near the end of
 * each table and index are the same for every request. A batch takes the
 * locks once and writes a page that several requests changed once; reads
 * inside it take no locks of their own.
 *
 * Nothing waiting on a write hears back before the commit that holds it:
 * a transaction's commit and a lone write resolve only when their batch
 * commits, and fail together with it if the commit fails (a full
 * disk). Reads run inside an open batch and see its writes, as they would
 * once it commits; whoever made those writes has not been answered yet.
 * While a batch is open this process holds SQLite's write lock, for one
 * turn of the event loop at most; other processes on the file wait for it
 * as they wait for any writer (busy_timeout). A batch takes the lock as it
 * begins (`begin immediate`): a transaction that reads and then writes
 * would otherwise fail at once with SQLITE_BUSY when another process wrote
 * in between, without waiting (sqlite.org/lang_transaction.html).
 *
 * Reads made while no batch is open share a read transaction until the
 * turn ends: a statement on its own is a transaction of its own, and takes
 * and drops the file's locks with system calls that cost several times the
 * read itself. They see the database as it was at the turn's first read;
 * a write of this process ends the read transaction before its batch
 * begins, and what other processes commit is seen from the next turn on.
 */
export class BatchingSqliteDriver implements Driver {
  readonly #path: string | undefined
  readonly #file: SqliteFile
  readonly #lock = new Lock()
  /** Leases Kysely is done with, to lend again: Kysely remembers every connection object it is given. */
  readonly #spare: Lease[] = []
  #batch: Batch | undefined
  /** The open read transaction, if any: reads of this turn made outside a batch. */
  #read: object | undefined

  /** `path`: the file's absolute path; none for a database in memory, which no other connection sees. */
  constructor(path: string | undefined, file: SqliteFile) {
    this.#path = path
    this.#file = file
  }

  async init(): Promise<void> {}

  use(): ConnectionUse {
    return { busy: this.#lock.held, waiting: this.#lock.waiting }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire()
    const lease = this.#spare.pop() ?? new Lease(this)
    lease.released = false
    lease.inTransaction = false
    return lease
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#openBatch()
    this.#control(`savepoint ${SAVEPOINT}`)
    asLease(connection).inTransaction = true
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = asLease(connection)
    this.#control(`release ${SAVEPOINT}`)
    lease.inTransaction = false
    await this.#committed(lease)
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = asLease(connection)
    lease.inTransaction = false
    // Let go already: its savepoint was released into a batch whose commit failed.
    if (lease.released) return
    // A failed statement may have ended the whole batch already (see `run`).
    if (!this.#file.inTransaction) return
    this.#control(`rollback to ${SAVEPOINT}`)
    this.#control(`release ${SAVEPOINT}`)
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const lease = asLease(connection)
    this.#release(lease)
    // Kysely lets go of a connection last of all: it does not use this lease again.
    if (this.#spare.length < SPARE_LEASES) this.#spare.push(lease)
  }

  async destroy(): Promise<void> {
    await this.#lock.acquire()
    if (this.#batch) this.#commit()
    this.#endRead()
    this.#file.close()
  }

  /** Runs one statement for a lease that holds the connection. */
  async run(lease: Lease, query: CompiledQuery): Promise<QueryResult<unknown>> {
    const outside = OUTSIDE_TRANSACTIONS.test(query.sql)
    if (outside && !lease.inTransaction) {
      if (this.#batch) this.#commit()
      this.#endRead()
    }
    const statement = this.#file.prepare(query.sql)
    const writes = !outside && !statement.readonly
    if (writes) await this.#openBatch()
    else if (!outside && !this.#batch && !this.#read) this.#openRead()
    let result: QueryResult<unknown>
    try {
      result = execute(statement, query.parameters)
    } catch (err) {
      // On a full disk, an I/O error and a few others SQLite rolls back the
      // whole transaction (sqlite.org/lang_transaction.html, "Response To
      // Errors Within A Transaction"): the batch's other writes are gone too.
      if (this.#batch && !this.#file.inTransaction) this.#lost(err)
      throw err
    }
    if (writes && !lease.inTransaction) await this.#committed(lease)
    return result
  }

  /** Lets the lease go, then waits for the batch that holds its writes to commit. */
  #committed(lease: Lease): Promise<void> {
    // Open: the lease wrote into it, and only letting go of the connection commits it.
    const batch = this.#batch!
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }))
    this.#release(lease)
    return done
  }

  #release(lease: Lease): void {
    if (lease.released) return
    lease.released = true
    if (this.#batch?.due) this.#commit()
    this.#lock.release()
  }

  async #openBatch(): Promise<void> {
    if (this.#batch) return
    if (this.#path !== undefined) {
      for (let other = openBatches.get(this.#path); other; other = openBatches.get(this.#path)) await other
    }
    this.#endRead()
    if (this.#file.inTransaction) this.#control('rollback')
    this.#control('begin immediate')
    let ended!: () => void
    const batch: Batch = { waiters: [], due: false, ended: new Promise((resolve) => (ended = resolve)), end: () => ended() }
    this.#batch = batch
    if (this.#path !== undefined) openBatches.set(this.#path, batch.ended)
    setImmediate(() => {
      if (this.#batch !== batch) return
      batch.due = true
      // Held: the holder commits the batch when it lets go.
      if (!this.#lock.held) this.#commit()
    })
  }

  #openRead(): void {
    // What a failed commit could not roll back, as a batch finds it too.
    if (this.#file.inTransaction) this.#control('rollback')
    this.#control(BEGIN_READ)
    const read = {}
    this.#read = read
    setImmediate(() => {
      if (this.#read === read) this.#endRead()
    })
  }

  #endRead(): void {
    if (!this.#read) return
    this.#read = undefined
    // A read that failed on a damaged or vanished file may have ended the transaction already.
    if (this.#file.inTransaction) this.#control(END_READ)
  }

  #commit(): void {
    const batch = this.#close()
    try {
      this.#control('commit')
    } catch (err) {
      try {
        if (this.#file.inTransaction) this.#control('rollback')
      } catch {
        // The commit's error says why; the next batch rolls back what is left before it begins.
      }
      for (const waiter of batch.waiters) waiter.reject(err)
      return
    }
    for (const waiter of batch.waiters) waiter.resolve()
  }

  #lost(err: unknown): void {
    const batch = this.#close()
    for (const waiter of batch.waiters) waiter.reject(err)
  }

  /** Forgets the open batch, whose transaction is ending; returns it. */
  #close(): Batch {
    const batch = this.#batch!
    this.#batch = undefined
    if (this.#path !== undefined && openBatches.get(this.#path) === batch.ended) openBatches.delete(this.#path)
    batch.end()
    return batch
  }

  #control(sqlText: string): void {
    this.#file.prepare(sqlText).run([])
  }
}

interface Batch {
  waiters: { resolve(): void; reject(err: unknown): void }[]
  /** Its turn of the event loop has ended: the next to let go of the connection commits it. */
  due: boolean
  /** Settles once the batch's transaction has ended, committed or not. */
  ended: Promise<void>
  end(): void
}

/** One use of the connection, from acquiring it to letting it go. */
class Lease implements DatabaseConnection {
  inTransaction = false
  released = false

  constructor(private readonly driver: BatchingSqliteDriver) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.run(this, query) as Promise<QueryResult<R>>
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming rows is not supported on SQLite')
  }
}

function asLease(connection: DatabaseConnection): Lease {
  return connection as Lease
}

function execute(statement: SqliteRunnable, parameters: readonly unknown[]): QueryResult<unknown> {
  if (statement.reader) return { rows: statement.all(parameters) }
  const { changes, lastInsertRowid } = statement.run(parameters)
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] }
}

/** The connection, held by one lease at a time, handed on in the order asked for. */
class Lock {
  held = false
  readonly #queue: (() => void)[] = []

  get waiting(): number {
    return this.#queue.length
  }

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#queue.push(resolve))
  }

  release(): void {
    const next = this.#queue.shift()
    if (next) next()
    else this.held = false
  }
}

/** Kysely's SQLite dialect with the batching driver. */
export function batchingSqliteDialect(driver: BatchingSqliteDriver): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  }
}
