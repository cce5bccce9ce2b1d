import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * Passkeys: the WebAuthn challenges handed out to browsers, each taken once,
 * short-lived and bound to the session or login form that asked for it.
 */
export function passkeyChallenges() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('webauthn_challenges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('binding', 'text', (c) => c.notNull())
        .addColumn('user_id', BIG, (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('challenge', 'text', (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('webauthn_challenges_expiry_idx').on('webauthn_challenges').column('expires_at').execute()
    },
  }
}
