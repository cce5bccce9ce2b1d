import type { Kysely } from 'kysely'
import type { Executor } from './executor.js'

/**
 * The tables that only grow unless pruned, each with its rows' key: a row
 * is no use after its `expires_at`, or, for the activity log, some time
 * after its `created_at`.
 */
const PRUNABLE = {
  authorization_codes: 'code_hash',
  authorization_requests: 'id_hash',
  device_authorizations: 'device_code_hash',
  access_tokens: 'jti',
  refresh_tokens: 'token_hash',
  personal_access_tokens: 'id',
  sessions: 'id_hash',
  registration_tokens: 'token_hash',
  // Every row of one session expires with it, so deleting by session is deleting by expiry.
  session_clients: 'sid',
  throttle_counters: 'key',
  form_submissions: 'key_hash',
  shown_once: 'id_hash',
  account_links: 'token_hash',
  client_assertions: 'jti_hash',
  activities: 'id',
} as const

export type PrunableTable = keyof typeof PRUNABLE

/**
 * Deletes up to `limit` rows of the table whose time is at or before
 * `before`, by key: one short statement that never holds a lock for long.
 */
export async function deleteRowsBefore(db: Executor, table: PrunableTable, before: number, limit: number): Promise<number> {
  const key = PRUNABLE[table]
  const time = table === 'activities' ? 'created_at' : 'expires_at'
  // Kysely cannot follow a table picked at run time; the map above names only real columns.
  const loose = db as unknown as Kysely<Record<string, Record<string, unknown>>>
  const batch = loose.selectFrom(table).select(key).where(time, '<=', before).limit(limit)
  const result = await loose.deleteFrom(table).where(key, 'in', batch).executeTakeFirst()
  return Number(result.numDeletedRows)
}
