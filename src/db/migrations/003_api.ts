import type { Kysely } from 'kysely'
import type { DialectName } from '../connection.js'
import { BIG, idColumn } from './helpers.js'

export function api(dialect: DialectName) {
  const id = idColumn(dialect)
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('personal_access_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addColumn('last_used_at', BIG)
        .execute()
      await db.schema.createIndex('personal_access_tokens_user_idx').on('personal_access_tokens').columns(['user_id', 'team_id']).execute()
      await db.schema.createIndex('personal_access_tokens_expires_idx').on('personal_access_tokens').column('expires_at').execute()

      // No foreign keys: the log outlives the users, clients and tokens it mentions.
      await db.schema
        .createTable('activities')
        .addColumn('id', id.type, id.build)
        .addColumn('team_id', BIG)
        .addColumn('user_id', BIG)
        .addColumn('client_id', 'text')
        .addColumn('personal_access_token_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('address', 'text')
        .addColumn('created_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('activities_team_idx').on('activities').columns(['team_id', 'id']).execute()
      await db.schema.createIndex('activities_created_idx').on('activities').column('created_at').execute()
      await db.schema.createIndex('activities_team_client_idx').on('activities').columns(['team_id', 'client_id', 'id']).execute()
    },
  }
}
