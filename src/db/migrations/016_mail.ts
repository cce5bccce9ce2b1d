import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * Mail waiting to be sent, kept so that a restart or an SMTP outage loses
 * none and leased so that of several processes one sends each; the body is
 * sealed, as it carries a link, and goes with the row once sent. Beside it,
 * the single-use links mail carries (password reset, e-mail verification,
 * e-mail change), stored by the hash of their token.
 */
export function mail() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('mail_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('body_encrypted', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', BIG, (c) => c.notNull())
        .addColumn('give_up_at', BIG, (c) => c.notNull())
        .addColumn('lease_until', BIG)
        .addColumn('created_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('mail_outbox_due_idx').on('mail_outbox').column('next_attempt_at').execute()

      await db.schema
        .createTable('account_links')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('password_stamp', 'text', (c) => c.notNull())
        .addColumn('form_token_hash', 'text')
        .addColumn('form_expires_at', BIG)
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addColumn('consumed_at', BIG)
        .execute()
      await db.schema.createIndex('account_links_form_idx').on('account_links').column('form_token_hash').execute()
      await db.schema.createIndex('account_links_user_idx').on('account_links').column('user_id').execute()
    },
  }
}
