import type { HoldingsOf } from '../tokens/types.js'
import type { Executor } from './executor.js'

/** The scopes and resources (space-separated) the user approved for the client in the team. */
export async function findConsent(db: Executor, userId: number, clientId: string, teamId: number): Promise<{ scopes: string; resources: string } | undefined> {
  return db
    .selectFrom('consents')
    .select(['scopes', 'resources'])
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .where('team_id', '=', teamId)
    .executeTakeFirst()
}

export async function upsertConsent(
  db: Executor,
  userId: number,
  clientId: string,
  teamId: number,
  approved: { scopes: string; resources: string },
  now: number,
): Promise<void> {
  const { scopes, resources } = approved
  await db
    .insertInto('consents')
    .values({ user_id: userId, client_id: clientId, team_id: teamId, scopes, resources, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'client_id', 'team_id']).doUpdateSet({ scopes, resources, updated_at: now }))
    .execute()
}

/** Forgets consents, so the next authorization asks again. */
export async function deleteConsents(db: Executor, of: HoldingsOf): Promise<void> {
  const f: { clientId?: string; userId?: number; teamId?: number } = of
  let query = db.deleteFrom('consents')
  if (f.clientId !== undefined) query = query.where('client_id', '=', f.clientId)
  if (f.userId !== undefined) query = query.where('user_id', '=', f.userId)
  if (f.teamId !== undefined) query = query.where('team_id', '=', f.teamId)
  await query.execute()
}

/** Records a consent unless one is on file already (which may be wider). */
export async function insertConsentIfAbsent(db: Executor, userId: number, clientId: string, teamId: number, scopes: string, now: number): Promise<void> {
  await db
    .insertInto('consents')
    .values({ user_id: userId, client_id: clientId, team_id: teamId, scopes, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'client_id', 'team_id']).doNothing())
    .execute()
}
