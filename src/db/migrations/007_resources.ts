import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * RFC 8707: the resources tokens may be issued for, and the audience each
 * code, grant, consent and access token is bound to (space-separated URIs;
 * empty means the client itself, as every token was before).
 */
export function resources() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('resources')
        .addColumn('uri', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .execute()
      for (const table of ['authorization_codes', 'grants', 'consents', 'access_tokens']) {
        await db.schema
          .alterTable(table)
          .addColumn('resources', 'text', (c) => c.notNull().defaultTo(''))
          .execute()
      }
    },
  }
}
