import type { ActivityEvent } from '../activity/types.js'
import type { Db } from '../db/connection.js'
import { isUniqueViolation } from '../db/errors.js'
import {
  deleteMembership,
  findTeamById,
  findTeamByName,
  insertTeam,
  listMembershipsOfUser,
  listTeamMembers,
  listTeamsWithMemberCounts,
  setTeamName,
  upsertMembership,
} from '../db/teams.js'
import { findUserByEmail } from '../db/users.js'
import { Refusal } from '../messages.js'
import { validName } from '../names.js'
import { revokeUserHoldings } from '../tokens/holdings.js'
import { revokedActivity } from './revoked-activity.js'
import type { Role, Team, User } from './types.js'
import { requireUserByEmail, type Revoked } from './users.js'

export function parseRole(value: string | undefined): Role {
  if (value === undefined || value === 'member') return 'member'
  if (value === 'owner') return 'owner'
  throw new Refusal('role_invalid', 400, value)
}

export async function addMember(db: Db, teamName: string, email: string, role: Role, now: number): Promise<{ team: Team; user: User; role: Role }> {
  return db.kysely.transaction().execute(async (trx) => {
    const team = await findTeamByName(trx, teamName.trim())
    if (!team) throw new Refusal('team_not_found', 404, teamName.trim())
    const user = await findUserByEmail(trx, email)
    if (!user) throw new Refusal('user_not_found', 404, email)
    if (user.isServiceAccount) throw new Refusal('service_account_membership', 409)
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
    if (!team) throw new Refusal('team_not_found', 404, teamName.trim())
    const user = await findUserByEmail(trx, email)
    if (!user) throw new Refusal('user_not_found', 404, email)
    const activity = await revokedActivity(trx, user.id, [team.id], 'removed from the team')
    if (!(await deleteMembership(trx, team.id, user.id))) throw new Refusal('user_not_member', 404, email)
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
  if (!membership) throw teamName === undefined ? new Refusal('no_active_team', 404) : new Refusal('team_not_member', 404, teamName.trim())
  return { user, team: membership.team }
}

export function findTeam(db: Db, teamId: number): Promise<Team | undefined> {
  return findTeamById(db.kysely, teamId)
}

/** A team's name as typed: trimmed, visible, no control characters, short enough for the header's switcher. */
export function validTeamName(name: string): string {
  return validName(name, { required: 'team_name_required', controlCharacters: 'team_name_control_characters', tooLong: 'team_name_too_long' })
}

/** A new team with `ownerId` as its owner (one transaction); team names are unique. */
export async function createTeam(db: Db, name: string, ownerId: number, now: number): Promise<Team> {
  const teamName = validTeamName(name)
  try {
    return await db.kysely.transaction().execute(async (trx) => {
      const team = await insertTeam(trx, teamName, now)
      await upsertMembership(trx, team.id, ownerId, 'owner', now)
      return team
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw new Refusal('team_name_taken', 409, teamName)
    throw err
  }
}

/** Every team, by name, with its number of members. */
export function allTeams(db: Db): Promise<{ team: Team; members: number }[]> {
  return listTeamsWithMemberCounts(db.kysely)
}

/**
 * The team named `value`, or else the one with that id: names are what
 * people type, ids what scripts read from `--json`.
 */
export async function teamByIdOrName(db: Db, value: string): Promise<Team> {
  const byName = await findTeamByName(db.kysely, value.trim())
  if (byName) return byName
  const id = /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : undefined
  const byId = id === undefined ? undefined : await findTeamById(db.kysely, id)
  if (!byId) throw new Refusal('team_id_or_name_not_found', 404, value)
  return byId
}

/** A new team owned by the user with this e-mail address (the command line's `teams create`). */
export async function createTeamOwnedBy(db: Db, name: string, ownerEmail: string, now: number): Promise<{ team: Team; owner: User }> {
  const owner = await findUserByEmail(db.kysely, ownerEmail)
  if (!owner) throw new Refusal('user_not_found', 404, ownerEmail)
  return { team: await createTeam(db, name, owner.id, now), owner }
}

export async function requireTeam(db: Db, teamId: number): Promise<Team> {
  const team = await findTeamById(db.kysely, teamId)
  if (!team) throw new Refusal('team_not_found', 404)
  return team
}

/** A new name for the team; names stay unique. */
export async function renameTeam(db: Db, teamId: number, name: string, now: number): Promise<Team> {
  const teamName = validTeamName(name)
  try {
    const team = await setTeamName(db.kysely, teamId, teamName, now)
    if (!team) throw new Refusal('team_not_found', 404)
    return team
  } catch (err) {
    if (isUniqueViolation(err)) throw new Refusal('team_name_taken', 409, teamName)
    throw err
  }
}
