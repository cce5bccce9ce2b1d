import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * The portal's forms: each form instance's submission, so a double click or a
 * reload acts once; and secrets kept, encrypted, for the one page view that
 * shows them after a redirect.
 */
export function portal() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('form_submissions')
        .addColumn('key_hash', 'text', (c) => c.primaryKey())
        // Where the first submission sent the browser; null while it is still being handled.
        .addColumn('location', 'text')
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('form_submissions_expires_idx').on('form_submissions').column('expires_at').execute()

      await db.schema
        .createTable('shown_once')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('session_hash', 'text', (c) => c.notNull())
        // The token or client the secret belongs to, so a page shows a secret only under its own name.
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('secret_encrypted', 'text', (c) => c.notNull())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('shown_once_expires_idx').on('shown_once').column('expires_at').execute()
    },
  }
}
