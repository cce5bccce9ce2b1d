import type { HoldingsOf } from '../tokens/types.js'
import type { Executor } from './executor.js'

/** The scopes and resources (space-separated) the user approved for the client in the team; `implied` when they never saw the page. */
export async function findConsent(
  db: Executor,
  userId: number,
  clientId: string,
  teamId: number,
): Promise<{ scopes: string; resources: string; implied: number } | undefined> {
  return db
    .selectFrom('consents')
    .select(['scopes', 'resources', 'implied'])
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
  approved: { scopes: string; resources: string; implied: boolean },
  now: number,
): Promise<void> {
  const { scopes, resources } = approved
  const implied = approved.implied ? 1 : 0
  await db
    .insertInto('consents')
    .values({ user_id: userId, client_id: clientId, team_id: teamId, scopes, resources, implied, created_at: now, updated_at: now })
    // A decision on the page stands: a later sign-in that skipped the page does not make it implied.
    .onConflict((oc) => oc.columns(['user_id', 'client_id', 'team_id']).doUpdateSet({ scopes, resources, updated_at: now, ...(implied === 0 && { implied }) }))
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

/** Records a consent the user never gave on the page (`implied`), unless one is on file already (which may be wider). */
export async function insertImpliedConsentIfAbsent(db: Executor, userId: number, clientId: string, teamId: number, scopes: string, now: number): Promise<void> {
  await db
    .insertInto('consents')
    .values({ user_id: userId, client_id: clientId, team_id: teamId, scopes, implied: 1, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'client_id', 'team_id']).doNothing())
    .execute()
}
