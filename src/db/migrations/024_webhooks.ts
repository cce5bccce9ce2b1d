import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * Webhooks (Standard Webhooks): a team's endpoints, each with its signing
 * secret sealed under the master key (it is read back to sign); the log of
 * what was sent to each; and the queue of deliveries still to make, kept
 * apart from the log so the shared leased queue only ever sees work to do.
 */
export function webhooks() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('secret_encrypted', 'text', (c) => c.notNull())
        .addColumn('disabled_at', BIG)
        .addColumn('disabled_reason', 'text')
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('updated_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('webhook_endpoints_team_idx').on('webhook_endpoints').column('team_id').execute()
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id').onDelete('cascade'))
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('response_status', 'integer')
        .addColumn('latency_ms', 'integer')
        .addColumn('error', 'text')
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('last_attempt_at', BIG)
        .execute()
      await db.schema.createIndex('webhook_deliveries_endpoint_idx').on('webhook_deliveries').columns(['endpoint_id', 'created_at']).execute()
      await db.schema
        .createTable('webhook_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey().references('webhook_deliveries.id').onDelete('cascade'))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', BIG, (c) => c.notNull())
        .addColumn('give_up_at', BIG, (c) => c.notNull())
        .addColumn('lease_until', BIG)
        .addColumn('created_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('webhook_outbox_due_idx').on('webhook_outbox').column('next_attempt_at').execute()
    },
  }
}
