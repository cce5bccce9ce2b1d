import type { Kysely } from 'kysely'

/**
 * OpenID Connect Registration §2 `id_token_signed_response_alg`: what the
 * client's ID tokens are signed with; RS256, the default, for existing clients.
 */
export function idTokenAlg() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('clients')
        .addColumn('id_token_signed_response_alg', 'text', (c) => c.notNull().defaultTo('RS256'))
        .execute()
    },
  }
}
