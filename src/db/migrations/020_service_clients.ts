import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * Service clients and key-based client authentication: a user row can be a
 * service account (no password, never logs in) that a service client acts
 * as; a client may be registered for one authentication method, with the
 * public keys (`jwks`) or the URL of them (`jwks_uri`) its assertions are
 * checked against; and each assertion's `jti` is kept, hashed, until the
 * assertion expires, so none is accepted twice.
 */
export function serviceClients() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('users')
        .addColumn('is_service_account', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
      await db.schema
        .alterTable('clients')
        .addColumn('service_user_id', BIG, (c) => c.references('users.id').onDelete('set null'))
        .execute()
      await db.schema.alterTable('clients').addColumn('token_endpoint_auth_method', 'text').execute()
      await db.schema.alterTable('clients').addColumn('jwks', 'text').execute()
      await db.schema.alterTable('clients').addColumn('jwks_uri', 'text').execute()
      await db.schema
        .createTable('client_assertions')
        .addColumn('jti_hash', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('client_assertions_expires_idx').on('client_assertions').column('expires_at').execute()
    },
  }
}
