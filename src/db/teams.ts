import type { Selectable } from 'kysely'
import type { Role, Team, TeamMembership, User } from '../accounts/types.js'
import type { Executor } from './executor.js'
import { announceRevoked } from './revocations.js'
import type { TeamTable } from './schema.js'
import { toUser } from './users.js'

function toTeam(row: Selectable<TeamTable>): Team {
  return {
    id: row.id,
    name: row.name,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    requiresTwoFactor: row.require_two_factor === 1,
  }
}

export async function insertTeam(db: Executor, name: string, now: number): Promise<Team> {
  const row = await db.insertInto('teams').values({ name, created_at: now, updated_at: now }).returningAll().executeTakeFirstOrThrow()
  return toTeam(row)
}

export async function findTeamByName(db: Executor, name: string): Promise<Team | undefined> {
  const row = await db.selectFrom('teams').selectAll().where('name', '=', name).executeTakeFirst()
  return row && toTeam(row)
}

export async function findTeamById(db: Executor, id: number): Promise<Team | undefined> {
  const row = await db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toTeam(row)
}

/** Whether the team's members must sign in with a second factor (an owner's setting). */
export async function setTeamRequiresTwoFactor(db: Executor, teamId: number, required: boolean, now: number): Promise<void> {
  await db
    .updateTable('teams')
    .set({ require_two_factor: required ? 1 : 0, updated_at: now })
    .where('id', '=', teamId)
    .execute()
}

/** Adds the user to the team, or changes the role of an existing member. */
export async function upsertMembership(db: Executor, teamId: number, userId: number, role: Role, now: number): Promise<void> {
  await db
    .insertInto('memberships')
    .values({ team_id: teamId, user_id: userId, role, created_at: now })
    .onConflict((oc) => oc.columns(['team_id', 'user_id']).doUpdateSet({ role }))
    .execute()
}

export async function deleteMembership(db: Executor, teamId: number, userId: number): Promise<boolean> {
  const result = await db.deleteFrom('memberships').where('team_id', '=', teamId).where('user_id', '=', userId).executeTakeFirst()
  announceRevoked(db, [userId])
  return Number(result.numDeletedRows) === 1
}

export async function listMembershipsOfUser(db: Executor, userId: number): Promise<TeamMembership[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('teams', 'teams.id', 'memberships.team_id')
    .select(['teams.id', 'teams.name', 'teams.created_at', 'teams.updated_at', 'teams.require_two_factor', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
    .orderBy('teams.name')
    .orderBy('teams.id')
    .execute()
  return rows.map((r) => ({ team: toTeam(r), role: r.role }))
}

export async function findMembership(db: Executor, teamId: number, userId: number): Promise<TeamMembership | undefined> {
  const row = await db
    .selectFrom('memberships')
    .innerJoin('teams', 'teams.id', 'memberships.team_id')
    .select(['teams.id', 'teams.name', 'teams.created_at', 'teams.updated_at', 'teams.require_two_factor', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
    .where('memberships.team_id', '=', teamId)
    .executeTakeFirst()
  return row && { team: toTeam(row), role: row.role }
}

export async function listTeamMembers(db: Executor, teamId: number): Promise<{ user: User; role: Role }[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .selectAll('users')
    .select('memberships.role')
    .where('memberships.team_id', '=', teamId)
    .orderBy('users.name')
    .orderBy('users.id')
    .execute()
  return rows.map(({ role, ...user }) => ({ user: toUser(user), role }))
}

/** Every team with how many members it has, by name. */
export async function listTeamsWithMemberCounts(db: Executor): Promise<{ team: Team; members: number }[]> {
  const rows = await db
    .selectFrom('teams')
    .leftJoin('memberships', 'memberships.team_id', 'teams.id')
    .select(['teams.id', 'teams.name', 'teams.created_at', 'teams.updated_at', 'teams.require_two_factor'])
    .select((eb) => eb.fn.count<number | string>('memberships.user_id').as('members'))
    .groupBy(['teams.id', 'teams.name', 'teams.created_at', 'teams.updated_at', 'teams.require_two_factor'])
    .orderBy('teams.name')
    .orderBy('teams.id')
    .execute()
  return rows.map(({ members, ...team }) => ({ team: toTeam(team), members: Number(members) }))
}

export async function setTeamName(db: Executor, id: number, name: string, now: number): Promise<Team | undefined> {
  const row = await db.updateTable('teams').set({ name, updated_at: now }).where('id', '=', id).returningAll().executeTakeFirst()
  return row && toTeam(row)
}
