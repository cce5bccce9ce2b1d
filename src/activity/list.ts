import type { Db } from '../db/connection.js'
import { listActivities, type ActivityFilter } from '../db/activities.js'
import type { Activity } from './types.js'

export const PAGE_SIZE_DEFAULT = 50
export const PAGE_SIZE_MAX = 100

export interface ActivityPage {
  items: Activity[]
  /** Pass as `cursor` for the next, older page; null on the last page. */
  nextCursor: string | null
}

/** Cursor pagination by id: stable while new entries arrive at the top. */
export async function activityPage(
  db: Db,
  filter: Omit<ActivityFilter, 'beforeId' | 'limit'>,
  cursor: string | undefined,
  limit: number,
): Promise<ActivityPage> {
  const beforeId = cursor === undefined ? undefined : Number(cursor)
  const rows = await listActivities(db.kysely, { ...filter, beforeId: Number.isSafeInteger(beforeId) ? beforeId : undefined, limit: limit + 1 })
  const items = rows.slice(0, limit)
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null }
}
