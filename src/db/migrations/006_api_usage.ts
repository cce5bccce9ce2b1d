import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/** API calls counted per token per minute, instead of an activity row per call. */
export function apiUsage() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // No foreign keys, like the activity log: usage outlives the tokens it counts.
      await db.schema
        .createTable('api_usage')
        .addColumn('token_id', 'text', (c) => c.notNull())
        .addColumn('minute', BIG, (c) => c.notNull())
        .addColumn('team_id', BIG, (c) => c.notNull())
        .addColumn('user_id', BIG, (c) => c.notNull())
        .addColumn('client_id', 'text')
        .addColumn('personal_access_token_id', 'text')
        .addColumn('calls', BIG, (c) => c.notNull())
        .addColumn('last_path', 'text', (c) => c.notNull())
        .addColumn('last_status', 'integer', (c) => c.notNull())
        .addColumn('last_at', BIG, (c) => c.notNull())
        .addPrimaryKeyConstraint('api_usage_pk', ['token_id', 'minute'])
        .execute()
      await db.schema.createIndex('api_usage_team_idx').on('api_usage').columns(['team_id', 'minute']).execute()
      await db.schema.createIndex('api_usage_client_idx').on('api_usage').columns(['team_id', 'client_id', 'user_id', 'last_at']).execute()
      await db.schema.createIndex('api_usage_minute_idx').on('api_usage').column('minute').execute()
    },
  }
}
