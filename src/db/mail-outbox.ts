import type { Executor } from './executor.js'

export interface QueuedMailRow {
  id: string
  recipient: string
  kind: string
  bodyEncrypted: string
}

export interface ClaimedMail extends QueuedMailRow {
  /** Attempts made so far, this one included. */
  attempts: number
  giveUpAt: number
}

export async function insertMail(db: Executor, mail: QueuedMailRow, now: number, giveUpAt: number): Promise<void> {
  await db
    .insertInto('mail_outbox')
    .values({
      id: mail.id,
      recipient: mail.recipient,
      kind: mail.kind,
      body_encrypted: mail.bodyEncrypted,
      next_attempt_at: now,
      give_up_at: giveUpAt,
      lease_until: null,
      created_at: now,
    })
    .execute()
}

/** Ids of mail due now that no process holds, the oldest first. */
export async function listDueMail(db: Executor, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('mail_outbox')
    .select('id')
    .where('next_attempt_at', '<=', now)
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute()
  return rows.map((row) => row.id)
}

/**
 * Takes the mail for one attempt until `leaseUntil`: a conditional UPDATE
 * that succeeds for exactly one of the processes that try. A process that
 * dies holding it frees it when the lease runs out.
 */
export async function claimMail(db: Executor, id: string, now: number, leaseUntil: number): Promise<ClaimedMail | undefined> {
  const row = await db
    .updateTable('mail_outbox')
    .set((eb) => ({ lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('next_attempt_at', '<=', now)
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<=', now)]))
    .returningAll()
    .executeTakeFirst()
  return (
    row && {
      id: row.id,
      recipient: row.recipient,
      kind: row.kind,
      bodyEncrypted: row.body_encrypted,
      attempts: row.attempts,
      giveUpAt: row.give_up_at,
    }
  )
}

/** Lets go of the mail until its next attempt. */
export async function rescheduleMail(db: Executor, id: string, nextAttemptAt: number): Promise<void> {
  await db.updateTable('mail_outbox').set({ next_attempt_at: nextAttemptAt, lease_until: null }).where('id', '=', id).execute()
}

/** Sent or given up on: the row, and the sealed body with its links, go. */
export async function deleteMail(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('mail_outbox').where('id', '=', id).execute()
}

export async function countQueuedMail(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('mail_outbox')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
