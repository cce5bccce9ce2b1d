import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/** The authorization requests a consent page is showing, so the decision can only answer the request that was shown. */
export function authorizationRequests() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('authorization_requests')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('session_id_hash', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addColumn('consumed_at', BIG)
        .execute()
      await db.schema.createIndex('authorization_requests_expires_idx').on('authorization_requests').column('expires_at').execute()
    },
  }
}
