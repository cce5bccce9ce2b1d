import type { Role, User } from '../accounts/types.js'
import type { Executor } from './executor.js'
import { JOINED_USER_COLUMNS, joinedUser } from './users.js'

export interface MemberRow {
  user: User
  role: Role
  joinedAt: number
  /** The latest login among the member's sessions still kept; null when none is. */
  lastLoginAt: number | null
}

export async function listMembersWithLogins(db: Executor, teamId: number): Promise<MemberRow[]> {
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select([...JOINED_USER_COLUMNS, 'm.user_id', 'm.role', 'm.created_at as joined_at'])
    .select((eb) =>
      eb
        .selectFrom('sessions as s')
        .select((sub) => sub.fn.max('s.authenticated_at').as('at'))
        .whereRef('s.user_id', '=', 'm.user_id')
        .as('last_login_at'),
    )
    .where('m.team_id', '=', teamId)
    .orderBy('u.name')
    .orderBy('m.user_id')
    .execute()
  return rows.map((row) => ({
    user: joinedUser(row),
    role: row.role,
    joinedAt: Number(row.joined_at),
    lastLoginAt: row.last_login_at === null ? null : Number(row.last_login_at),
  }))
}

export async function countOwners(db: Executor, teamId: number): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('owners'))
    .where('team_id', '=', teamId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow()
  return Number(row.owners)
}

/** Changes the role of a member; false when the user is not one. */
export async function setMemberRole(db: Executor, teamId: number, userId: number, role: Role): Promise<boolean> {
  const result = await db.updateTable('memberships').set({ role }).where('team_id', '=', teamId).where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/**
 * Holds the team's row until the transaction ends, so that two owners
 * leaving or demoting each other at once cannot both pass the last-owner
 * check (SQLite's write transactions are serial already).
 */
export async function lockTeam(db: Executor, teamId: number): Promise<void> {
  await db
    .updateTable('teams')
    .set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('id', '=', teamId)
    .execute()
}
