import { sql, type Kysely } from 'kysely'
import type { DialectName } from '../connection.js'
import { BIG } from './helpers.js'

/**
 * Clients that register themselves (RFC 7591) or are named by a metadata
 * document URL belong to no owner and no team: those columns become
 * nullable, and `kind` tells the three kinds apart. `metadata` keeps the
 * registered client metadata as JSON; a metadata-document client is fetched
 * again after `metadata_expires_at`.
 */
export function registration(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`ALTER TABLE clients ALTER COLUMN owner_user_id DROP NOT NULL`.execute(db)
        await sql`ALTER TABLE clients ALTER COLUMN team_id DROP NOT NULL`.execute(db)
      } else {
        // SQLite cannot drop a NOT NULL: the table is rebuilt (sqlite.org/lang_altertable.html, "other kinds of
        // table schema changes"). Foreign keys are off meanwhile, so the drop does not cascade to the tokens.
        await sql`PRAGMA foreign_keys = OFF`.execute(db)
        // The table as it stands, whatever columns earlier migrations added, with the two NOT NULLs dropped.
        const current = await sql<{ sql: string }>`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'clients'`.execute(db)
        const definition = current.rows[0]!.sql
        const rebuilt = definition
          .replace(/^CREATE TABLE "?clients"?/i, 'CREATE TABLE "clients_rebuilt"')
          .replace(/("owner_user_id" bigint) not null/i, '$1')
          .replace(/("team_id" bigint) not null/i, '$1')
        if (rebuilt === definition || /"(owner_user_id|team_id)" bigint not null/i.test(rebuilt)) throw new Error('unexpected definition of the clients table')
        await sql.raw(rebuilt).execute(db)
        await sql`INSERT INTO clients_rebuilt SELECT * FROM clients`.execute(db)
        await sql`DROP TABLE clients`.execute(db)
        await sql`ALTER TABLE clients_rebuilt RENAME TO clients`.execute(db)
        await db.schema.createIndex('clients_owner_idx').on('clients').column('owner_user_id').execute()
        await db.schema.createIndex('clients_team_idx').on('clients').column('team_id').execute()
        const broken = await sql`PRAGMA foreign_key_check`.execute(db)
        await sql`PRAGMA foreign_keys = ON`.execute(db)
        if (broken.rows.length > 0) throw new Error('rebuilding the clients table broke a foreign key')
      }
      await db.schema
        .alterTable('clients')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('registered'))
        .execute()
      await db.schema.alterTable('clients').addColumn('metadata', 'text').execute()
      await db.schema.alterTable('clients').addColumn('registration_token_hash', 'text').execute()
      await db.schema.alterTable('clients').addColumn('metadata_expires_at', BIG).execute()
      await db.schema.createIndex('clients_kind_idx').on('clients').columns(['kind', 'created_at']).execute()

      // RFC 7591 §3: initial access tokens for GATEHOUSE_CLIENT_REGISTRATION=token, kept as hashes.
      await db.schema
        .createTable('registration_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('created_at', BIG, (c) => c.notNull())
        .addColumn('expires_at', BIG, (c) => c.notNull())
        .execute()
    },
  }
}
