import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * Invitations to join a team, each bound to the address it was sent to and
 * stored by the hash of its link's token; a resend gives the row a new
 * token. Accepted and cancelled ones stay, so their link can say what
 * became of it.
 */
export function invitations() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('invitations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('email_normalized', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('invited_by', BIG, (c) => c.references('users.id').onDelete('set null'))
        .addColumn('form_token_hash', 'text')
        .addColumn('form_expires_at', BIG)
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addColumn('accepted_at', BIG)
        .addColumn('cancelled_at', BIG)
        .execute()
      await db.schema.createIndex('invitations_team_idx').on('invitations').column('team_id').execute()
      await db.schema.createIndex('invitations_form_idx').on('invitations').column('form_token_hash').execute()
    },
  }
}
