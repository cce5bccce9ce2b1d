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
        admin_token_id: event.adminTokenId ?? null,
        action: event.action,
        detail: event.detail ?? null,
        address: event.address ?? null,
        created_at: at,
      })),
    )
    .execute()
}

export interface ActivityFilter {
  /** Every team's entries and those of no team when absent (the admin API). */
  teamId?: number
  action?: string
  adminTokenId?: string
  userId?: number
  clientId?: string
  personalAccessTokenId?: string
  /** Only entries older than this id (the cursor of the previous page). */
  beforeId?: number
  limit: number
}

/** Newest first. */
export async function listActivities(db: Executor, filter: ActivityFilter): Promise<Activity[]> {
  let query = db.selectFrom('activities').selectAll()
  if (filter.teamId !== undefined) query = query.where('team_id', '=', filter.teamId)
  if (filter.action !== undefined) query = query.where('action', '=', filter.action)
  if (filter.adminTokenId !== undefined) query = query.where('admin_token_id', '=', filter.adminTokenId)
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
    adminTokenId: r.admin_token_id,
    detail: r.detail,
    address: r.address,
    createdAt: new Date(r.created_at),
  }))
}

export interface DeletionEntry {
  /** The client's or token's id. */
  subjectId: string
  teamId: number
  /** The name it had, as the deletion entry recorded it. */
  name: string | null
  at: Date
}

/**
 * The entries that record these clients deleted (or these apps revoked), or
 * these tokens of one user deleted, in the log of the given teams, newest first.
 */
export async function listDeletions(
  db: Executor,
  filter: { teamIds: number[] } & (
    | { action: 'client.deleted' | 'app.revoked'; clientIds: string[] }
    | { action: 'personal_access_token.deleted'; personalAccessTokenIds: string[]; userId: number }
  ),
): Promise<DeletionEntry[]> {
  const ids = 'clientIds' in filter ? filter.clientIds : filter.personalAccessTokenIds
  if (filter.teamIds.length === 0 || ids.length === 0) return []
  let query = db.selectFrom('activities').where('team_id', 'in', filter.teamIds).where('action', '=', filter.action)
  query = 'clientIds' in filter ? query.where('client_id', 'in', ids) : query.where('personal_access_token_id', 'in', ids).where('user_id', '=', filter.userId)
  const rows = await query.select(['client_id', 'personal_access_token_id', 'team_id', 'detail', 'created_at']).orderBy('id', 'desc').execute()
  return rows.flatMap((r) => {
    const subjectId = r.client_id ?? r.personal_access_token_id
    return subjectId === null || r.team_id === null ? [] : [{ subjectId, teamId: r.team_id, name: r.detail, at: new Date(r.created_at) }]
  })
}
