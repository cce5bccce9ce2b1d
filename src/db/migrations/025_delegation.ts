import type { Kysely } from 'kysely'
import { BIG, idColumn } from './helpers.js'
import type { DialectName } from '../connection.js'

/**
 * Delegation (RFC 8693 token exchange) and enterprise-managed authorization
 * (RFC 7523 §2.1 with identity assertions): which clients an operator lets
 * exchange tokens; the grant an exchanged token hangs from, so revoking the
 * subject's grant ends it; the `act` claim each exchanged token carries; and
 * the identity providers an operator trusts for a team.
 */
export function delegation(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('clients')
        .addColumn('token_exchange', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
      await db.schema.alterTable('grants').addColumn('parent_grant_id', 'text').execute()
      await db.schema.createIndex('grants_parent_idx').on('grants').column('parent_grant_id').execute()
      await db.schema.alterTable('access_tokens').addColumn('act', 'text').execute()
      const id = idColumn(dialect)
      await db.schema
        .createTable('trusted_issuers')
        .addColumn('id', id.type, id.build)
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('jwks_uri', 'text', (c) => c.notNull())
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('created_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('trusted_issuers_issuer_team_idx').on('trusted_issuers').columns(['issuer', 'team_id']).unique().execute()
    },
  }
}
