import type { Executor } from './executor.js'

export interface SessionRow {
  userId: number
  activeTeamId: number | null
  expiresAt: number
}

export async function insertSession(db: Executor, idHash: string, userId: number, activeTeamId: number | null, now: number, expiresAt: number): Promise<void> {
  await db.insertInto('sessions').values({ id_hash: idHash, user_id: userId, active_team_id: activeTeamId, created_at: now, expires_at: expiresAt }).execute()
}

export async function findLiveSession(db: Executor, idHash: string, now: number): Promise<SessionRow | undefined> {
  const row = await db
    .selectFrom('sessions')
    .select(['user_id', 'active_team_id', 'expires_at'])
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return row && { userId: row.user_id, activeTeamId: row.active_team_id, expiresAt: row.expires_at }
}

export async function setSessionTeam(db: Executor, idHash: string, teamId: number): Promise<void> {
  await db.updateTable('sessions').set({ active_team_id: teamId }).where('id_hash', '=', idHash).execute()
}

export async function deleteSession(db: Executor, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute()
}

export async function deleteSessionsOfUser(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute()
}

