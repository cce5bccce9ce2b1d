import type { ActivityEvent } from '../activity/types.js'
import type { Db } from '../db/connection.js'
import { isUniqueViolation } from '../db/errors.js'
import { deleteSessionsOfUser, type EndedSession } from '../db/sessions.js'
import { findTeamByName, insertTeam, listMembershipsOfUser, upsertMembership } from '../db/teams.js'
import { findUserByEmail, findUserById, insertUser, listUsers, setUserDisabled, setUserName } from '../db/users.js'
import { Refusal } from '../messages.js'
import { validName } from '../names.js'
import { revokeUserHoldings } from '../tokens/holdings.js'
import { checkNewPassword, hashPassword } from './passwords.js'
import { revokedActivity } from './revoked-activity.js'
import type { Team, User } from './types.js'

export interface NewUser {
  email: string
  name: string
  password: string
  /** The team the user joins as owner; created when no team has this name. */
  teamName?: string
  isVerified?: boolean
}

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** Refuses what cannot be an e-mail address. */
export function checkEmail(email: string): void {
  if (!EMAIL.test(email.trim()) || email.length > 254) throw new Refusal('email_invalid')
}

export function validateNewUser(input: NewUser): void {
  checkEmail(input.email)
  validName(input.name, { required: 'name_required', controlCharacters: 'name_control_characters' })
  if (input.password.length < 8) throw new Refusal('password_too_short')
  if (input.password.length > 1024) throw new Refusal('password_too_long')
  if (input.teamName !== undefined) validName(input.teamName, { required: 'team_name_required', controlCharacters: 'team_name_control_characters' })
}

/**
 * A person opening their own account (sign-up, an invitation) chooses the
 * password under the rule of reset and change: not one of the commonly used
 * ones (NIST SP 800-63B §3.1.1.2).
 */
export async function checkNewAccount(input: NewUser): Promise<void> {
  validateNewUser(input)
  await checkNewPassword(input.password)
}

/** Creates the user and, when a team is named, makes them its owner: all or nothing. */
export async function createUser(db: Db, input: NewUser, now: number): Promise<{ user: User; team: Team | undefined }> {
  validateNewUser(input)
  const passwordHash = await hashPassword(input.password)
  try {
    return await db.kysely.transaction().execute(async (trx) => {
      const user = await insertUser(trx, {
        email: input.email,
        name: input.name.trim(),
        passwordHash,
        isVerified: input.isVerified ?? true,
        now,
      })
      if (input.teamName === undefined) return { user, team: undefined }
      const teamName = input.teamName.trim()
      const team = (await findTeamByName(trx, teamName)) ?? (await insertTeam(trx, teamName, now))
      await upsertMembership(trx, team.id, user.id, 'owner', now)
      return { user, team }
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw new Refusal('email_taken', 409, input.email)
    throw err
  }
}

/** What disabling a user ended: grants (with their tokens) and personal access tokens. */
export interface Revoked {
  grants: number
  personalAccessTokens: number
}

/**
 * A disabled user cannot log in, their sessions end, and so does every
 * token, code, grant and personal access token they hold, for good:
 * enabling the user again restores none of them (one transaction).
 * `sessionsEnded` hears of the sessions once that is committed (back-channel logout).
 */
export async function setDisabled(
  db: Db,
  email: string,
  disabled: boolean,
  now: number,
  sessionsEnded?: (ended: EndedSession[]) => void,
): Promise<{ user: User; revoked: Revoked; activity: ActivityEvent[] }> {
  const { ended, ...result } = await db.kysely.transaction().execute(async (trx) => {
    const user = await findUserByEmail(trx, email)
    if (!user) throw new Refusal('user_not_found', 404, email)
    const updated = await setUserDisabled(trx, user.id, disabled, now)
    if (!disabled) return { user: updated ?? user, revoked: { grants: 0, personalAccessTokens: 0 }, activity: [], ended: [] }
    const teamIds = (await listMembershipsOfUser(trx, user.id)).map((m) => m.team.id)
    const activity = await revokedActivity(trx, user.id, teamIds, 'user disabled')
    const ended = await deleteSessionsOfUser(trx, user.id)
    const revoked = await revokeUserHoldings(trx, user.id, undefined, now)
    return { user: updated ?? user, revoked, activity, ended }
  })
  sessionsEnded?.(ended)
  return result
}

export async function requireUserByEmail(db: Db, email: string): Promise<User> {
  const user = await findUserByEmail(db.kysely, email)
  if (!user) throw new Refusal('user_not_found', 404, email)
  return user
}

export async function requireUserById(db: Db, id: number): Promise<User> {
  const user = await findUserById(db.kysely, id)
  if (!user) throw new Refusal('user_id_not_found', 404)
  return user
}

/** Users by id, `limit` of them after `afterId`: the admin API's list. */
export function usersAfter(db: Db, filter: { afterId?: number; limit: number; email?: string; disabled?: boolean }): Promise<User[]> {
  return listUsers(db.kysely, filter)
}

/** An operator renames a user; the name follows the rule of sign-up. */
export async function renameUser(db: Db, id: number, name: string, now: number): Promise<User> {
  const valid = validName(name, { required: 'name_required', controlCharacters: 'name_control_characters' })
  await setUserName(db.kysely, id, valid, now)
  return requireUserById(db, id)
}
