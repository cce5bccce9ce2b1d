import { sql, type Insertable } from 'kysely'
import type { Executor } from './executor.js'
import type { Database } from './schema.js'

/**
 * Inserts many rows in chunks, inside one transaction per chunk: for seeding
 * benchmarks and growth measurements, where rows are made by the thousand.
 */
export async function insertRows<T extends keyof Database & string>(db: Executor, table: T, rows: Insertable<Database[T]>[], chunk = 400): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) {
    // Kysely cannot narrow a generic table name; the rows are typed by the caller.
    await db
      .insertInto(table)
      .values(rows.slice(i, i + chunk) as never)
      .execute()
  }
}

/** The storage the token tables take, in bytes: for "bytes per stored token". */
export async function tokenStorageBytes(db: Executor, dialect: 'sqlite' | 'postgres'): Promise<number> {
  if (dialect === 'postgres') {
    const result = await sql<{ bytes: string | number }>`
      select pg_total_relation_size('access_tokens') + pg_total_relation_size('refresh_tokens') + pg_total_relation_size('grants') as bytes`.execute(db)
    return Number(result.rows[0]?.bytes ?? 0)
  }
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db)
  const pages = await sql<{ page_count: number }>`pragma page_count`.execute(db)
  const size = await sql<{ page_size: number }>`pragma page_size`.execute(db)
  return Number(pages.rows[0]?.page_count ?? 0) * Number(size.rows[0]?.page_size ?? 0)
}
