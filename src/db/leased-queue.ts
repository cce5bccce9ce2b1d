import type { Generated, Kysely, Selectable } from 'kysely'
import type { Executor } from './executor.js'
import type { Database } from './schema.js'

/** The columns a table needs to be a queue: each row is one job, tried until done or given up on. */
interface LeasedColumns {
  id: string
  attempts: Generated<number>
  next_attempt_at: number
  /** Until when a process that claimed the row is working on it; null when no one is. */
  lease_until: number | null
  created_at: number
}

/** A table name that only type-checks while the table has the queue's columns. */
type Leased<T extends keyof Database> = Database[T] extends LeasedColumns ? T : never

export type QueueTable = Leased<'backchannel_deliveries'> | Leased<'mail_outbox'> | Leased<'webhook_outbox'>

/** Kysely cannot follow a table picked at run time; `Leased` vouches that each queue table has these columns. */
function queues(db: Executor): Kysely<Record<QueueTable, LeasedColumns>> {
  return db as unknown as Kysely<Record<QueueTable, LeasedColumns>>
}

/** Ids of the rows due now that no process holds, the oldest first. */
export async function listDue(db: Executor, table: QueueTable, now: number, limit: number): Promise<string[]> {
  const rows = await queues(db)
    .selectFrom(table)
    .select('id')
    .where('next_attempt_at', '<=', now)
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute()
  return rows.map((row) => row.id)
}

/**
 * Takes the row for one attempt until `leaseUntil`: a conditional UPDATE
 * that succeeds for exactly one of the processes that try, so each attempt
 * is made once. A process that dies holding it frees it when the lease runs
 * out.
 */
export async function claimDue<T extends QueueTable>(
  db: Executor,
  table: T,
  id: string,
  now: number,
  leaseUntil: number,
): Promise<Selectable<Database[T]> | undefined> {
  const queue: QueueTable = table
  const row = await queues(db)
    .updateTable(queue)
    .set((eb) => ({ lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('next_attempt_at', '<=', now)
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<=', now)]))
    .returningAll()
    .executeTakeFirst()
  // RETURNING * gives the whole row, not only the queue's columns.
  return row as Selectable<Database[T]> | undefined
}

/** Lets go of the row until its next attempt. */
export async function putBack(db: Executor, table: QueueTable, id: string, nextAttemptAt: number): Promise<void> {
  await queues(db).updateTable(table).set({ next_attempt_at: nextAttemptAt, lease_until: null }).where('id', '=', id).execute()
}

/** Done or given up on: the row goes, and whatever it carried with it. */
export async function removeFromQueue(db: Executor, table: QueueTable, id: string): Promise<void> {
  await queues(db).deleteFrom(table).where('id', '=', id).execute()
}

export async function countQueued(db: Executor, table: QueueTable): Promise<number> {
  const row = await queues(db)
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** How many rows wait in the queue, and when the oldest was queued (null when none). */
export async function queueStanding(db: Executor, table: QueueTable): Promise<{ depth: number; oldestCreatedAt: number | null }> {
  const row = await queues(db)
    .selectFrom(table)
    .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.min('created_at').as('oldest')])
    .executeTakeFirstOrThrow()
  return { depth: Number(row.n), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) }
}
