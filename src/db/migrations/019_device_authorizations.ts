import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * RFC 8628: device authorization requests, each stored by the hashes of its
 * device code and its user code, waiting for the user's decision on the
 * /device page and then for the device to redeem it once.
 */
export function deviceAuthorizations() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('device_authorizations')
        .addColumn('device_code_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_code_hash', 'text', (c) => c.notNull().unique())
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('resources', 'text', (c) => c.notNull())
        .addColumn('interval_seconds', 'integer', (c) => c.notNull())
        .addColumn('last_polled_at', BIG)
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('user_id', BIG, (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('team_id', BIG, (c) => c.references('teams.id').onDelete('cascade'))
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('auth_time', BIG)
        .addColumn('amr', 'text')
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addColumn('decided_at', BIG)
        .addColumn('consumed_at', BIG)
        .execute()
      await db.schema.createIndex('device_authorizations_expires_idx').on('device_authorizations').column('expires_at').execute()
    },
  }
}
