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
      'c.scopes',
      'c.resources',
      eb
        .selectFrom('access_tokens as t')
        .select((inner) => inner.fn.max('t.created_at').as('last'))
        .whereRef('t.team_id', '=', 'c.team_id')
        .whereRef('t.client_id', '=', 'c.client_id')
        .whereRef('t.user_id', '=', 'c.user_id')
        .as('last_token_at'),
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
  const words = (stored: string) => (stored === '' ? [] : stored.split(' '))
  const latest = (...moments: (number | string | null | undefined)[]) => {
    const times = moments.filter((m) => m !== null && m !== undefined).map(Number)
    return times.length === 0 ? null : new Date(Math.max(...times))
  }
  return rows.map((r) => ({
    clientId: r.client_id,
    name: r.client_name,
    selfRegistered: r.client_kind !== 'registered',
    service: r.service_user_id !== null,
    authorisedBy: { userId: r.user_id, name: r.user_name, email: r.user_email },
    authorisedAt: new Date(r.created_at),
    lastUsedAt: latest(r.last_used_at, r.last_token_at),
    scopes: words(r.scopes),
    resources: words(r.resources),
  }))
}
