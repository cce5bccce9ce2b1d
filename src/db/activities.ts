import type { Activity, ActivityEvent } from '../activity/types.js'
import type { Executor } from './executor.js'

export async function insertActivities(db: Executor, events: { event: ActivityEvent; at: number }[]): Promise<void> {
  if (events.length === 0) return
  await db
    .insertInto('activities')
    .values(
      events.map(({ event, at }) => ({
        team_id: event.teamId ?? null,
        user_id: event.userId ?? null,
        client_id: event.clientId ?? null,
        personal_access_token_id: event.personalAccessTokenId ?? null,
        action: event.action,
        detail: event.detail ?? null,
        address: event.address ?? null,
        created_at: at,
      })),
    )
    .execute()
}

export interface ActivityFilter {
  teamId: number
  userId?: number
  clientId?: string
  personalAccessTokenId?: string
  /** Only entries older than this id (the cursor of the previous page). */
  beforeId?: number
  limit: number
}

/** Newest first. */
export async function listActivities(db: Executor, filter: ActivityFilter): Promise<Activity[]> {
  let query = db.selectFrom('activities').selectAll().where('team_id', '=', filter.teamId)
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId)
  if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId)
  if (filter.personalAccessTokenId !== undefined) query = query.where('personal_access_token_id', '=', filter.personalAccessTokenId)
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId)
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute()
  return rows.map((r) => ({
    id: r.id,
    action: r.action,
    teamId: r.team_id,
    userId: r.user_id,
    clientId: r.client_id,
    personalAccessTokenId: r.personal_access_token_id,
    detail: r.detail,
    address: r.address,
    createdAt: new Date(r.created_at),
  }))
}
