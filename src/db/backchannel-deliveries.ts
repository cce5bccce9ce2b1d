import type { Executor } from './executor.js'
import type { BackchannelTarget } from './sessions.js'

export interface BackchannelDelivery extends Omit<BackchannelTarget, 'backchannelLogoutUri'> {
  id: string
  /** The client's back-channel URL at this attempt, not the one it had when the session ended; null once it has none. */
  backchannelLogoutUri: string | null
  /** Attempts made so far, this one included once claimed. */
  attempts: number
  giveUpAt: number
}

export async function insertBackchannelDeliveries(
  db: Executor,
  deliveries: (BackchannelTarget & { id: string })[],
  now: number,
  giveUpAt: number,
): Promise<void> {
  if (deliveries.length === 0) return
  await db
    .insertInto('backchannel_deliveries')
    .values(
      deliveries.map((d) => ({
        id: d.id,
        client_id: d.clientId,
        sid: d.sid,
        user_id: d.userId,
        uri: d.backchannelLogoutUri,
        next_attempt_at: now,
        give_up_at: giveUpAt,
        lease_until: null,
        created_at: now,
      })),
    )
    .execute()
}

/** Ids of deliveries due now that no process holds, the oldest first. */
export async function listDueBackchannelDeliveries(db: Executor, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('backchannel_deliveries')
    .select('id')
    .where('next_attempt_at', '<=', now)
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute()
  return rows.map((row) => row.id)
}

/**
 * Takes the delivery for one attempt until `leaseUntil`: a conditional
 * UPDATE that succeeds for exactly one of the processes that try, so each
 * attempt is made once. A process that dies holding it frees it when the
 * lease runs out.
 */
export async function claimBackchannelDelivery(db: Executor, id: string, now: number, leaseUntil: number): Promise<BackchannelDelivery | undefined> {
  const row = await db
    .updateTable('backchannel_deliveries')
    .set((eb) => ({ lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('next_attempt_at', '<=', now)
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<=', now)]))
    .returningAll()
    .executeTakeFirst()
  if (!row) return undefined
  const client = await db.selectFrom('clients').select('backchannel_logout_uri').where('id', '=', row.client_id).executeTakeFirst()
  return {
    id: row.id,
    clientId: row.client_id,
    sid: row.sid,
    userId: row.user_id,
    backchannelLogoutUri: client?.backchannel_logout_uri ?? null,
    attempts: row.attempts,
    giveUpAt: row.give_up_at,
  }
}

/** Lets go of the delivery until its next attempt. */
export async function rescheduleBackchannelDelivery(db: Executor, id: string, nextAttemptAt: number): Promise<void> {
  await db.updateTable('backchannel_deliveries').set({ next_attempt_at: nextAttemptAt, lease_until: null }).where('id', '=', id).execute()
}

export async function deleteBackchannelDelivery(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('backchannel_deliveries').where('id', '=', id).execute()
}

export async function countBackchannelDeliveries(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('backchannel_deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
