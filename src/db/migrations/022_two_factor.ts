import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * Two-factor sign-in: each user's second factors (authenticator apps, their
 * secret sealed under GATEHOUSE_SECRET, and passkeys), their recovery codes
 * (keyed hashes, each used once), how each session was signed in (RFC 8176
 * `amr`, carried on to the codes and grants it issues), and a team's demand
 * that its members use a second factor.
 */
export function twoFactor() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('user_factors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_encrypted', 'text')
        .addColumn('last_used_step', BIG)
        .addColumn('credential_id', 'text', (c) => c.unique())
        .addColumn('public_key', 'text')
        .addColumn('sign_count', BIG)
        .addColumn('transports', 'text')
        .addColumn('confirmed_at', BIG)
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('last_used_at', BIG)
        .execute()
      await db.schema.createIndex('user_factors_user_idx').on('user_factors').column('user_id').execute()

      await db.schema
        .createTable('recovery_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('used_at', BIG)
        .execute()
      await db.schema.createIndex('recovery_codes_user_idx').on('recovery_codes').column('user_id').execute()

      // Null: signed in with the password alone, as every session before this was.
      await db.schema.alterTable('sessions').addColumn('amr', 'text').execute()
      for (const table of ['authorization_codes', 'grants'] as const) await db.schema.alterTable(table).addColumn('amr', 'text').execute()

      await db.schema
        .alterTable('teams')
        .addColumn('require_two_factor', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
    },
  }
}
