import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * One table of attempt counters for every throttle (logins per address, per
 * account and address, per account; client authentication per client and
 * address), each row knowing when it stops mattering so it can be pruned.
 * It replaces login_failures, whose counts last at most a window anyway.
 */
export function throttleCounters() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('throttle_counters')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('window_started_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('throttle_counters_expires_idx').on('throttle_counters').column('expires_at').execute()
      await db.schema.dropTable('login_failures').execute()
    },
  }
}
