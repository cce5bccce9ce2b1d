import type { Db } from '../db/connection.js'
import { queueStanding } from '../db/leased-queue.js'
import { countLiveSessions } from '../db/sessions.js'
import type { StoreReadings } from './metrics.js'

/** What a scrape reads from the database: the queues' standing and the live sessions. */
export function storeReadings(db: Db, clock: () => number): StoreReadings {
  return {
    async queues() {
      const [backchannel, mail, webhooks] = await Promise.all([
        queueStanding(db.kysely, 'backchannel_deliveries'),
        queueStanding(db.kysely, 'mail_outbox'),
        queueStanding(db.kysely, 'webhook_outbox'),
      ])
      return { backchannel_logout: backchannel, mail, webhooks }
    },
    activeSessions: () => countLiveSessions(db.kysely, clock()),
    pool: () => db.pool(),
    clock,
  }
}
