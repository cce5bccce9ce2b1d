import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * Admin tokens (stored by hash; a revoked one keeps its row so the activity
 * log still names it), the answers to POSTs sent with an Idempotency-Key
 * (sealed, as a create's answer may carry a secret shown once), and the admin
 * token an activity entry was written on behalf of.
 */
export function adminApi() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('admin_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG)
        .addColumn('revoked_at', BIG)
        .addColumn('last_used_at', BIG)
        .execute()
      await db.schema
        .createTable('admin_idempotency_keys')
        .addColumn('admin_token_id', 'text', (c) => c.notNull().references('admin_tokens.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('response_sealed', 'text')
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addPrimaryKeyConstraint('admin_idempotency_keys_pk', ['admin_token_id', 'key'])
        .execute()
      await db.schema.createIndex('admin_idempotency_keys_expiry_idx').on('admin_idempotency_keys').column('expires_at').execute()
      await db.schema.alterTable('activities').addColumn('admin_token_id', 'text').execute()
    },
  }
}
