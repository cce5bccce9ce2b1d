import { sql, type Insertable } from 'kysely'
import { randomBytes } from 'node:crypto'
import type { DialectName } from '../src/db/connection.js'
import type { Executor } from '../src/db/executor.js'
import type { Database } from '../src/db/schema.js'

/*
 * Seeding for benchmarks and growth measurements, where rows are made by
 * the hundred thousand. It lives with the benchmark, not in the storage
 * layer the server ships with.
 */

/** Multi-row inserts in chunks, so a large pool costs a few hundred statements, not one per row. */
export async function insertRows<T extends keyof Database & string>(db: Executor, table: T, rows: Insertable<Database[T]>[], chunk = 1_000): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) {
    // Kysely cannot narrow a generic table name; the rows are typed by the caller.
    await db
      .insertInto(table)
      .values(rows.slice(i, i + chunk) as never)
      .execute()
  }
}

/**
 * Stored tokens nobody will present, made inside the database (a grant, an
 * access token and a refresh token each): a million of them take seconds,
 * where building the rows in JavaScript would take minutes. Only the table
 * sizes matter for a growth measurement, so the hashes are random bytes.
 * Made in slices of FILL_SLICE rows, so no statement outlasts the pool's
 * statement timeout.
 */
const FILL_SLICE = 100_000

export async function fillIssuances(
  db: Executor,
  dialect: DialectName,
  owner: { clientId: string; userId: number; teamId: number },
  count: number,
  now: number,
): Promise<void> {
  const tag = randomBytes(6).toString('hex')
  for (let first = 1; first <= count; first += FILL_SLICE) {
    await fillSlice(db, dialect, owner, { tag, first, last: Math.min(count, first + FILL_SLICE - 1) }, now)
  }
}

async function fillSlice(
  db: Executor,
  dialect: DialectName,
  owner: { clientId: string; userId: number; teamId: number },
  slice: { tag: string; first: number; last: number },
  now: number,
): Promise<void> {
  const { tag, first, last } = slice
  const year = 31_536_000_000
  const series =
    dialect === 'postgres'
      ? sql`select i from generate_series(${first}::int, ${last}::int) as s(i)`
      : sql`with recursive s(i) as (select ${first} union all select i + 1 from s where i < ${last}) select i from s`
  const random = dialect === 'postgres' ? sql`md5(random()::text) || md5(random()::text)` : sql`lower(hex(randomblob(32)))`
  // Casts, because PostgreSQL types parameters in a select list as text.
  const text = (value: string) => sql`cast(${value} as text)`
  const big = (value: number) => sql`cast(${value} as bigint)`
  const grant = sql`${text('g' + tag + '-')} || i`
  const jti = sql`${text('j' + tag + '-')} || i`
  const client = text(owner.clientId)
  await sql`insert into grants (id, client_id, user_id, team_id, scopes, created_at, revoked_at)
    select ${grant}, ${client}, ${big(owner.userId)}, ${big(owner.teamId)}, '', ${big(now)}, null from (${series}) as n`.execute(db)
  await sql`insert into access_tokens (jti, grant_id, client_id, user_id, team_id, scopes, created_at, expires_at, revoked_at)
    select ${jti}, ${grant}, ${client}, ${big(owner.userId)}, ${big(owner.teamId)}, '', ${big(now)}, ${big(now + year)}, null from (${series}) as n`.execute(db)
  await sql`insert into refresh_tokens (token_hash, grant_id, access_token_jti, client_id, created_at, expires_at, consumed_at, revoked_at)
    select ${random}, ${grant}, ${jti}, ${client}, ${big(now)}, ${big(now + 2 * year)}, null, null from (${series}) as n`.execute(db)
}

/** The storage the token tables take, in bytes: for "bytes per stored token". */
export async function tokenStorageBytes(db: Executor, dialect: DialectName): Promise<number> {
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
