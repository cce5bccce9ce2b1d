import type { Executor } from './executor.js'
import { claimDue, countQueued } from './leased-queue.js'
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

export async function claimBackchannelDelivery(db: Executor, id: string, now: number, leaseUntil: number): Promise<BackchannelDelivery | undefined> {
  const row = await claimDue(db, 'backchannel_deliveries', id, now, leaseUntil)
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

export function countBackchannelDeliveries(db: Executor): Promise<number> {
  return countQueued(db, 'backchannel_deliveries')
}
