import type { Kysely } from 'kysely'

/**
 * What each scope of a resource lets an app do, in words, for the consent
 * page: a JSON object from scope to description. Resources registered
 * before this have none; the page then names the resource instead.
 */
export function scopeDescriptions() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('resources')
        .addColumn('scope_descriptions', 'text', (col) => col.notNull().defaultTo('{}'))
        .execute()
    },
  }
}
