import type { TeamApp } from '../tokens/types.js'
import type { Executor } from './executor.js'

/** Every app a member of the team has authorised, with who did it and when the app last called the API in the team. */
export async function listTeamApps(db: Executor, teamId: number): Promise<TeamApp[]> {
  const rows = await db
    .selectFrom('consents as c')
    .innerJoin('clients as cl', 'cl.id', 'c.client_id')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select((eb) => [
      'c.client_id',
      'cl.name as client_name',
      'cl.kind as client_kind',
      'cl.service_user_id',
      'c.user_id',
      'u.name as user_name',
      'u.email as user_email',
      'c.created_at',
      eb
        .selectFrom('api_usage as a')
        .select((inner) => inner.fn.max('a.last_at').as('last'))
        .whereRef('a.team_id', '=', 'c.team_id')
        .whereRef('a.client_id', '=', 'c.client_id')
        .whereRef('a.user_id', '=', 'c.user_id')
        .as('last_used_at'),
    ])
    .where('c.team_id', '=', teamId)
    .orderBy('cl.name')
    .orderBy('u.name')
    .execute()
  return rows.map((r) => ({
    clientId: r.client_id,
    name: r.client_name,
    selfRegistered: r.client_kind !== 'registered',
    service: r.service_user_id !== null,
    authorisedBy: { userId: r.user_id, name: r.user_name, email: r.user_email },
    authorisedAt: new Date(r.created_at),
    lastUsedAt: r.last_used_at === null || r.last_used_at === undefined ? null : new Date(Number(r.last_used_at)),
  }))
}
