import type { ActivityEvent } from '../activity/types.js'
import type { Db } from '../db/connection.js'
import { deleteMembership, findTeamById, findTeamByName, listMembershipsOfUser, listTeamMembers, upsertMembership } from '../db/teams.js'
import { findUserByEmail } from '../db/users.js'
import { Refusal } from '../messages.js'
import { revokeUserHoldings } from '../tokens/holdings.js'
import { revokedActivity } from './revoked-activity.js'
import type { Role, Team, User } from './types.js'
import { requireUserByEmail, type Revoked } from './users.js'

export function parseRole(value: string | undefined): Role {
  if (value === undefined || value === 'member') return 'member'
  if (value === 'owner') return 'owner'
  throw new Refusal('role_invalid')
}

export async function addMember(db: Db, teamName: string, email: string, role: Role, now: number): Promise<{ team: Team; user: User; role: Role }> {
  return db.kysely.transaction().execute(async (trx) => {
    const team = await findTeamByName(trx, teamName.trim())
    if (!team) throw new Refusal('team_not_found', 404)
    const user = await findUserByEmail(trx, email)
    if (!user) throw new Refusal('user_not_found', 404)
    await upsertMembership(trx, team.id, user.id, role, now)
    return { team, user, role }
  })
}

/**
 * Takes the user out of the team and ends what they hold there: grants and
 * their tokens, pending codes, consents, personal access tokens (one
 * transaction). Adding them again restores none of it.
 */
export async function removeMember(
  db: Db,
  teamName: string,
  email: string,
  now: number,
): Promise<{ team: Team; user: User; revoked: Revoked; activity: ActivityEvent[] }> {
  return db.kysely.transaction().execute(async (trx) => {
    const team = await findTeamByName(trx, teamName.trim())
    if (!team) throw new Refusal('team_not_found', 404)
    const user = await findUserByEmail(trx, email)
    if (!user) throw new Refusal('user_not_found', 404)
    const activity = await revokedActivity(trx, user.id, [team.id], 'removed from the team')
    if (!(await deleteMembership(trx, team.id, user.id))) throw new Refusal('user_not_member', 404)
    const revoked = await revokeUserHoldings(trx, user.id, team.id, now)
    return { team, user, revoked, activity }
  })
}

export function membersOf(db: Db, teamId: number): Promise<{ user: User; role: Role }[]> {
  return listTeamMembers(db.kysely, teamId)
}

/** A user and one of their teams: the named one, or their first. */
export async function userInTeam(db: Db, email: string, teamName: string | undefined): Promise<{ user: User; team: Team }> {
  const user = await requireUserByEmail(db, email)
  const memberships = await listMembershipsOfUser(db.kysely, user.id)
  const membership = teamName === undefined ? memberships[0] : memberships.find((m) => m.team.name === teamName.trim())
  if (!membership) throw new Refusal(teamName === undefined ? 'no_active_team' : 'team_not_member', 404)
  return { user, team: membership.team }
}

export function findTeam(db: Db, teamId: number): Promise<Team | undefined> {
  return findTeamById(db.kysely, teamId)
}
