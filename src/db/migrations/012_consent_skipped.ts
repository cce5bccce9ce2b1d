import type { Kysely } from 'kysely'

/**
 * Whether a consent on file was only implied by a client that skips the
 * consent page: once the operator turns that off, the user is asked.
 */
export function consentSkipped() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('consents')
        .addColumn('implied', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
    },
  }
}
