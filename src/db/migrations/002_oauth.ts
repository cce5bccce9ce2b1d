import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

export function oauth() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('clients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('is_confidential', 'integer', (c) => c.notNull())
        .addColumn('is_first_party', 'integer', (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        .addColumn('secret_encrypted', 'text')
        .addColumn('owner_user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('updated_at', BIG, (c) => c.notNull())
        .execute()
      await db.schema.createIndex('clients_owner_idx').on('clients').column('owner_user_id').execute()
      await db.schema.createIndex('clients_team_idx').on('clients').column('team_id').execute()

      await db.schema
        .createTable('grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('revoked_at', BIG)
        .execute()
      await db.schema.createIndex('grants_client_team_idx').on('grants').columns(['client_id', 'team_id']).execute()
      await db.schema.createIndex('grants_user_idx').on('grants').column('user_id').execute()

      await db.schema
        .createTable('authorization_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text')
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addColumn('consumed_at', BIG)
        .execute()
      await db.schema.createIndex('authorization_codes_expires_idx').on('authorization_codes').column('expires_at').execute()

      await db.schema
        .createTable('access_tokens')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('grants.id').onDelete('cascade'))
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addColumn('revoked_at', BIG)
        .execute()
      await db.schema.createIndex('access_tokens_grant_idx').on('access_tokens').column('grant_id').execute()
      await db.schema.createIndex('access_tokens_expires_idx').on('access_tokens').column('expires_at').execute()

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('grants.id').onDelete('cascade'))
        .addColumn('access_token_jti', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .addColumn('consumed_at', BIG)
        .addColumn('revoked_at', BIG)
        .execute()
      await db.schema.createIndex('refresh_tokens_grant_idx').on('refresh_tokens').column('grant_id').execute()
      await db.schema.createIndex('refresh_tokens_expires_idx').on('refresh_tokens').column('expires_at').execute()

      await db.schema
        .createTable('consents')
        .addColumn('user_id', BIG, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
        .addColumn('team_id', BIG, (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('updated_at', BIG, (c) => c.notNull())
        .addPrimaryKeyConstraint('consents_pk', ['user_id', 'client_id', 'team_id'])
        .execute()

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_key_encrypted', 'text', (c) => c.notNull())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('retired_at', BIG)
        .execute()
    },
  }
}
