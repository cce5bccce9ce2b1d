import type { Kysely } from 'kysely'
import type { Executor } from './executor.js'

/** The tables that only grow unless pruned: each row's key, and the time after which it is no use. */
const PRUNABLE = {
  authorization_codes: { key: 'code_hash', time: 'expires_at' },
  authorization_requests: { key: 'id_hash', time: 'expires_at' },
  access_tokens: { key: 'jti', time: 'expires_at' },
  refresh_tokens: { key: 'token_hash', time: 'expires_at' },
  personal_access_tokens: { key: 'id', time: 'expires_at' },
  sessions: { key: 'id_hash', time: 'expires_at' },
  registration_tokens: { key: 'token_hash', time: 'expires_at' },
  // Every row of one session expires with it, so deleting by session is deleting by expiry.
  session_clients: { key: 'sid', time: 'expires_at' },
  throttle_counters: { key: 'key', time: 'expires_at' },
  activities: { key: 'id', time: 'created_at' },
  form_submissions: { key: 'key_hash', time: 'expires_at' },
  shown_once: { key: 'id_hash', time: 'expires_at' },
} as const

export type PrunableTable = keyof typeof PRUNABLE

/**
 * Deletes up to `limit` rows of the table whose time is at or before
 * `before`, by key: one short statement that never holds a lock for long.
 */
export async function deleteRowsBefore(db: Executor, table: PrunableTable, before: number, limit: number): Promise<number> {
  const { key, time } = PRUNABLE[table]
  // Kysely cannot follow a table picked at run time; the map above names only real columns.
  const loose = db as unknown as Kysely<Record<string, Record<string, unknown>>>
  const batch = loose.selectFrom(table).select(key).where(time, '<=', before).limit(limit)
  const result = await loose.deleteFrom(table).where(key, 'in', batch).executeTakeFirst()
  return Number(result.numDeletedRows)
}
