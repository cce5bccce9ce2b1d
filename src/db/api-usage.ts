import { sql } from 'kysely'
import type { Executor } from './executor.js'

const CHUNK = 1_000

/** Which token made an API call, and for whom: what a usage row is counted under. */
export interface UsageSource {
  /** The access token's jti, or the personal access token's id. */
  tokenId: string
  teamId: number
  userId: number
  clientId: string | null
  personalAccessTokenId: string | null
}

/** One token's calls in one minute. */
export interface UsageCount extends UsageSource {
  minute: number
  calls: number
  lastPath: string
  lastStatus: number
  lastAt: number
}

export interface UsageSummary {
  userId: number
  clientId: string | null
  personalAccessTokenId: string | null
  calls: number
  lastAt: Date
  lastPath: string
  lastStatus: number
}

/**
 * Adds counted calls to their token-and-minute rows, which any process may
 * have started already, and moves personal access tokens' "last used".
 */
export async function addApiUsage(db: Executor, counts: UsageCount[]): Promise<void> {
  for (let i = 0; i < counts.length; i += CHUNK) {
    await db
      .insertInto('api_usage')
      .values(
        counts.slice(i, i + CHUNK).map((c) => ({
          token_id: c.tokenId,
          minute: c.minute,
          team_id: c.teamId,
          user_id: c.userId,
          client_id: c.clientId,
          personal_access_token_id: c.personalAccessTokenId,
          calls: c.calls,
          last_path: c.lastPath,
          last_status: c.lastStatus,
          last_at: c.lastAt,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['token_id', 'minute']).doUpdateSet({
          calls: sql`api_usage.calls + excluded.calls`,
          // Processes flush in any order: the latest call wins, whoever wrote it.
          last_path: sql`case when excluded.last_at >= api_usage.last_at then excluded.last_path else api_usage.last_path end`,
          last_status: sql`case when excluded.last_at >= api_usage.last_at then excluded.last_status else api_usage.last_status end`,
          last_at: sql`case when excluded.last_at >= api_usage.last_at then excluded.last_at else api_usage.last_at end`,
        }),
      )
      .execute()
  }
  const lastByToken = new Map<string, number>()
  for (const c of counts) {
    if (c.personalAccessTokenId !== null) lastByToken.set(c.personalAccessTokenId, Math.max(c.lastAt, lastByToken.get(c.personalAccessTokenId) ?? 0))
  }
  for (const [id, at] of lastByToken) {
    await db
      .updateTable('personal_access_tokens')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute()
  }
}

export interface UsageFilter {
  teamId: number
  /** Epoch milliseconds: calls in minutes starting at or after this. */
  since: number
  userId?: number
  clientId?: string
  personalAccessTokenId?: string
  limit: number
}

/** Calls per app or token and user, the most recently used first, each with its last call. */
export async function listApiUsage(db: Executor, filter: UsageFilter): Promise<UsageSummary[]> {
  let query = db.selectFrom('api_usage').where('team_id', '=', filter.teamId).where('minute', '>=', filter.since)
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId)
  if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId)
  if (filter.personalAccessTokenId !== undefined) query = query.where('personal_access_token_id', '=', filter.personalAccessTokenId)
  const groups = await query
    .select((eb) => [
      'user_id',
      'client_id',
      'personal_access_token_id',
      eb.fn.sum<number | string>('calls').as('calls'),
      eb.fn.max<number | string>('last_at').as('last_at'),
    ])
    .groupBy(['user_id', 'client_id', 'personal_access_token_id'])
    .orderBy('last_at', 'desc')
    .limit(filter.limit)
    .execute()
  if (groups.length === 0) return []
  const latest = await query
    .select(['user_id', 'client_id', 'personal_access_token_id', 'last_at', 'last_path', 'last_status'])
    .where(
      'last_at',
      'in',
      groups.map((g) => Number(g.last_at)),
    )
    .execute()
  const key = (r: { user_id: number; client_id: string | null; personal_access_token_id: string | null }) =>
    `${r.user_id} ${r.client_id ?? ''} ${r.personal_access_token_id ?? ''}`
  const last = new Map(latest.map((r) => [`${key(r)} ${Number(r.last_at)}`, r]))
  return groups.map((g) => {
    const at = Number(g.last_at)
    const call = last.get(`${key(g)} ${at}`)
    return {
      userId: Number(g.user_id),
      clientId: g.client_id,
      personalAccessTokenId: g.personal_access_token_id,
      calls: Number(g.calls),
      lastAt: new Date(at),
      lastPath: call?.last_path ?? '',
      lastStatus: call?.last_status ?? 0,
    }
  })
}

/** Deletes up to `limit` rows of minutes at or before `before`; one short statement. */
export async function deleteApiUsageBefore(db: Executor, before: number, limit: number): Promise<number> {
  const result = await sql`delete from api_usage where (token_id, minute) in (
    select token_id, minute from api_usage where minute <= ${before} limit ${limit})`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}
