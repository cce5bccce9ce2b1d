import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * Back-channel logout deliveries still to make: kept in the database so a
 * restart loses none, and leased so that of several processes one sends each.
 * What is kept is enough to sign the logout token again, not the token.
 */
export function backchannelDeliveries() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('backchannel_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('sid', 'text', (c) => c.notNull())
        .addColumn('user_id', BIG, (c) => c.notNull())
        .addColumn('uri', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', BIG, (c) => c.notNull())
        .addColumn('give_up_at', BIG, (c) => c.notNull())
        .addColumn('lease_until', BIG)
        .addColumn('created_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('backchannel_deliveries_due_idx').on('backchannel_deliveries').column('next_attempt_at').execute()
    },
  }
}
