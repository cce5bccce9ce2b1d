import type { Transaction } from 'kysely'
import type { ActivityLog } from '../activity/recorder.js'
import type { Db } from '../db/connection.js'
import type { Executor } from '../db/executor.js'
import { usersWithFactors } from '../db/factors.js'
import { countOwners, listMembersWithLogins, lockTeam, setMemberRole } from '../db/members.js'
import type { Database } from '../db/schema.js'
import { deleteMembership, findMembership, setTeamRequiresTwoFactor } from '../db/teams.js'
import { findUserById } from '../db/users.js'
import { Refusal } from '../messages.js'
import { revokeUserHoldings } from '../tokens/holdings.js'
import type { Actor } from './invitations.js'
import type { Role, User } from './types.js'
import type { ActivityEvent } from '../activity/types.js'
import { revokedActivity } from './revoked-activity.js'
import type { Revoked } from './users.js'

export interface Member {
  user: User
  role: Role
  joinedAt: Date
  /** The member's latest login; when none is known, the day they joined. */
  lastActiveAt: Date
  /** Whether the member signs in with a second factor. */
  hasTwoFactor: boolean
}

export async function membersWithActivity(db: Db, teamId: number): Promise<Member[]> {
  const rows = await listMembersWithLogins(db.kysely, teamId)
  const withFactors = await usersWithFactors(
    db.kysely,
    rows.map((row) => row.user.id),
  )
  return rows.map((row) => ({
    user: row.user,
    role: row.role,
    joinedAt: new Date(row.joinedAt),
    lastActiveAt: new Date(Math.max(row.joinedAt, row.lastLoginAt ?? 0)),
    hasTwoFactor: withFactors.has(row.user.id),
  }))
}

/** The role of a member, read now rather than from the session, which may be older than a change. */
export async function roleIn(db: Executor, teamId: number, userId: number): Promise<Role | undefined> {
  return (await findMembership(db, teamId, userId))?.role
}

async function requireOwner(db: Executor, teamId: number, userId: number): Promise<void> {
  if ((await roleIn(db, teamId, userId)) !== 'owner') throw new Refusal('owner_only', 403)
}

/** A team always keeps an owner: the last one can neither leave nor be demoted nor removed. */
async function keepAnOwner(db: Executor, teamId: number, userId: number, code: 'last_owner_leave' | 'last_owner_demote' | 'last_owner_remove'): Promise<void> {
  if ((await roleIn(db, teamId, userId)) === 'owner' && (await countOwners(db, teamId)) <= 1) throw new Refusal(code, 409)
}

async function requireMember(db: Executor, teamId: number, userId: number): Promise<User> {
  const user = await findUserById(db, userId)
  if (!user || !(await roleIn(db, teamId, userId))) throw new Refusal('user_not_member', 404)
  return user
}

/** A service account is a member of its client's team, as a member, for as long as the client exists. */
async function requirePerson(db: Executor, teamId: number, userId: number): Promise<User> {
  const user = await requireMember(db, teamId, userId)
  if (user.isServiceAccount) throw new Refusal('service_account_membership', 409)
  return user
}

export async function changeRole(db: Db, activity: ActivityLog, teamId: number, userId: number, role: Role, by: Actor & { user: User }): Promise<User> {
  const user = await db.kysely.transaction().execute(async (trx) => {
    await lockTeam(trx, teamId)
    await requireOwner(trx, teamId, by.user.id)
    const user = await requirePerson(trx, teamId, userId)
    if (role === 'member') await keepAnOwner(trx, teamId, userId, 'last_owner_demote')
    await setMemberRole(trx, teamId, userId, role)
    return user
  })
  activity.record({ action: 'member.role_changed', teamId, userId: by.user.id, detail: `${user.email} to ${role}`, address: by.address })
  return user
}

/** Takes a member out of the team and ends what they hold there (as `removeMember` does). */
async function takeOut(trx: Transaction<Database>, teamId: number, userId: number, now: number): Promise<Revoked> {
  await deleteMembership(trx, teamId, userId)
  return revokeUserHoldings(trx, userId, teamId, now)
}

export async function removeFromTeam(
  db: Db,
  activity: ActivityLog,
  teamId: number,
  userId: number,
  by: Actor & { user: User },
  now: number,
): Promise<{ user: User; revoked: Revoked }> {
  const result = await db.kysely.transaction().execute(async (trx) => {
    await lockTeam(trx, teamId)
    await requireOwner(trx, teamId, by.user.id)
    const user = await requirePerson(trx, teamId, userId)
    await keepAnOwner(trx, teamId, userId, userId === by.user.id ? 'last_owner_leave' : 'last_owner_remove')
    return { user, revoked: await takeOut(trx, teamId, userId, now) }
  })
  activity.record({ action: 'member.removed', teamId, userId: by.user.id, detail: result.user.email, address: by.address })
  return result
}

/** Anyone may leave, except the team's last owner. */
export async function leaveTeam(db: Db, activity: ActivityLog, teamId: number, by: Actor & { user: User }, now: number): Promise<Revoked> {
  const revoked = await db.kysely.transaction().execute(async (trx) => {
    await lockTeam(trx, teamId)
    await requireMember(trx, teamId, by.user.id)
    await keepAnOwner(trx, teamId, by.user.id, 'last_owner_leave')
    return takeOut(trx, teamId, by.user.id, now)
  })
  activity.record({ action: 'member.left', teamId, userId: by.user.id, detail: by.user.email, address: by.address })
  return revoked
}

/** Only an owner invites, resends and cancels invitations. */
export async function requireTeamOwner(db: Db, teamId: number, userId: number): Promise<void> {
  await requireOwner(db.kysely, teamId, userId)
}

/** An operator changes a member's role (the admin API); the team still keeps an owner. */
export async function changeRoleByOperator(db: Db, teamId: number, userId: number, role: Role): Promise<{ user: User; activity: ActivityEvent[] }> {
  const user = await db.kysely.transaction().execute(async (trx) => {
    await lockTeam(trx, teamId)
    const user = await requireMember(trx, teamId, userId)
    if (role === 'member') await keepAnOwner(trx, teamId, userId, 'last_owner_demote')
    await setMemberRole(trx, teamId, userId, role)
    return user
  })
  return { user, activity: [{ action: 'member.role_changed', teamId, detail: `${user.email} to ${role}` }] }
}

/** An operator takes a member out of the team (the admin API), ending what they hold there; the team still keeps an owner. */
export async function removeByOperator(
  db: Db,
  teamId: number,
  userId: number,
  now: number,
): Promise<{ user: User; revoked: Revoked; activity: ActivityEvent[] }> {
  return db.kysely.transaction().execute(async (trx) => {
    await lockTeam(trx, teamId)
    const user = await requireMember(trx, teamId, userId)
    await keepAnOwner(trx, teamId, userId, 'last_owner_remove')
    const activity = await revokedActivity(trx, userId, [teamId], 'removed from the team')
    const revoked = await takeOut(trx, teamId, userId, now)
    return { user, revoked, activity: [...activity, { action: 'member.removed' as const, teamId, detail: user.email }] }
  })
}

/** An owner turns the team's demand for two-factor sign-in on or off. */
export async function setTwoFactorRequirement(
  deps: { db: Db; activity: ActivityLog },
  teamId: number,
  by: { user: User; address: string },
  required: boolean,
  now: number,
): Promise<void> {
  await requireOwner(deps.db.kysely, teamId, by.user.id)
  await setTeamRequiresTwoFactor(deps.db.kysely, teamId, required, now)
  deps.activity.record({ action: 'team.two_factor_changed', teamId, userId: by.user.id, detail: required ? 'required' : 'not required', address: by.address })
}
