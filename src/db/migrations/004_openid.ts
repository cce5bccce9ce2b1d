import { sql, type Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * OpenID Connect: each session's login time and public id (`auth_time`,
 * `sid`), what a code and its grant need for an ID token, the clients a
 * session signed in to (back-channel logout), and the clients' logout and
 * consent settings.
 */
export function openid() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('sessions').addColumn('sid', 'text').execute()
      await db.schema.alterTable('sessions').addColumn('authenticated_at', BIG).execute()
      // Sessions from before this version logged in when they were created. Their
      // public id is the stored hash of their secret id, which reveals nothing of it.
      await sql`update sessions set authenticated_at = created_at, sid = id_hash`.execute(db)
      await db.schema.createIndex('sessions_sid_idx').on('sessions').column('sid').unique().execute()

      for (const table of ['authorization_codes', 'grants'] as const) {
        await db.schema.alterTable(table).addColumn('nonce', 'text').execute()
        await db.schema.alterTable(table).addColumn('sid', 'text').execute()
        await db.schema.alterTable(table).addColumn('auth_time', BIG).execute()
      }

      await db.schema
        .alterTable('clients')
        .addColumn('skip_consent', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
      await db.schema
        .alterTable('clients')
        .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute()
      await db.schema.alterTable('clients').addColumn('backchannel_logout_uri', 'text').execute()

      // No foreign key to sessions: the row must outlive its session until the logout is announced.
      await db.schema
        .createTable('session_clients')
        .addColumn('sid', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addPrimaryKeyConstraint('session_clients_pk', ['sid', 'client_id'])
        .execute()
      await db.schema.createIndex('session_clients_expires_idx').on('session_clients').column('expires_at').execute()
    },
  }
}
