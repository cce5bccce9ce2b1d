import type { Executor } from './executor.js'
import { claimDue, countQueued } from './leased-queue.js'

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

export async function claimMail(db: Executor, id: string, now: number, leaseUntil: number): Promise<ClaimedMail | undefined> {
  const row = await claimDue(db, 'mail_outbox', id, now, leaseUntil)
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

export function countQueuedMail(db: Executor): Promise<number> {
  return countQueued(db, 'mail_outbox')
}
