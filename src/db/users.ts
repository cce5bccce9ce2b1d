import type { Selectable } from 'kysely'
import type { User } from '../accounts/types.js'
import type { Executor } from './executor.js'
import { compiledOnce } from './compiled.js'
import { announceRevoked } from './revocations.js'
import type { UserTable } from './schema.js'

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

export function toUser(row: Pick<Selectable<UserTable>, 'id' | UserColumn>): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    isVerified: row.is_verified === 1,
    isDisabled: row.is_disabled === 1,
    isServiceAccount: row.is_service_account === 1,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  }
}

export interface NewUserRow {
  email: string
  name: string
  passwordHash: string
  isVerified: boolean
  now: number
}

export async function insertUser(db: Executor, user: NewUserRow): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({
      email: user.email.trim(),
      email_normalized: normalizeEmail(user.email),
      name: user.name,
      password_hash: user.passwordHash,
      is_verified: user.isVerified ? 1 : 0,
      is_disabled: 0,
      created_at: user.now,
      updated_at: user.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toUser(row)
}

/** A service client's account: named after it, with no password, so no login path accepts it. */
export async function insertServiceAccount(db: Executor, account: { email: string; name: string; now: number }): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({
      email: account.email,
      email_normalized: normalizeEmail(account.email),
      name: account.name,
      password_hash: '',
      is_verified: 1,
      is_disabled: 0,
      is_service_account: 1,
      created_at: account.now,
      updated_at: account.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toUser(row)
}

export async function deleteServiceAccount(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).where('is_service_account', '=', 1).execute()
}

export async function findUserById(db: Executor, id: number): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toUser(row)
}

export async function findUserByEmail(db: Executor, email: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst()
  return row && toUser(row)
}

/** The user with the stored password hash, for checking a login. */
export async function findCredentialsByEmail(db: Executor, email: string): Promise<{ user: User; passwordHash: string } | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst()
  return row && { user: toUser(row), passwordHash: row.password_hash }
}

export async function setUserDisabled(db: Executor, id: number, disabled: boolean, now: number): Promise<User | undefined> {
  const row = await db
    .updateTable('users')
    .set({ is_disabled: disabled ? 1 : 0, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
  announceRevoked(db, [id])
  return row && toUser(row)
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** The user's columns other than its id and secrets: what a `User` is made of. */
const USER_COLUMNS = ['email', 'name', 'is_verified', 'is_disabled', 'is_service_account', 'created_at', 'updated_at'] as const
type UserColumn = (typeof USER_COLUMNS)[number]

/**
 * The user's columns for a query that joins `users as u` to a token row,
 * aliased so they cannot clash with the token's; the id is the token's `user_id`.
 */
export const JOINED_USER_COLUMNS = USER_COLUMNS.map((column) => `u.${column} as user_${column}`) as { [C in UserColumn]: `u.${C} as user_${C}` }[UserColumn][]

export function joinedUser(row: { user_id: number } & { [C in UserColumn as `user_${C}`]: Selectable<UserTable>[C] }): User {
  const user: Record<string, unknown> = { id: row.user_id }
  for (const column of USER_COLUMNS) user[column] = row[`user_${column}`]
  return toUser(user as Pick<Selectable<UserTable>, 'id' | UserColumn>)
}

export async function findPasswordHash(db: Executor, id: number): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirst()
  return row?.password_hash
}

/** Sets the password; `verified` also marks the address proven (a link sent to it was followed). */
export async function setUserPassword(db: Executor, id: number, passwordHash: string, verified: boolean, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, updated_at: now, ...(verified ? { is_verified: 1 } : {}) })
    .where('id', '=', id)
    .execute()
}

export async function setUserName(db: Executor, id: number, name: string, now: number): Promise<void> {
  await db.updateTable('users').set({ name, updated_at: now }).where('id', '=', id).execute()
}

/** The address the user proved they read: it becomes theirs, verified. */
export async function setUserVerifiedEmail(db: Executor, id: number, email: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ email: email.trim(), email_normalized: normalizeEmail(email), is_verified: 1, updated_at: now })
    .where('id', '=', id)
    .execute()
}

/** Deletes a user and the teams they are a member of; what hangs off either goes with them. */
export async function deleteUserWithTeams(db: Executor, userId: number): Promise<void> {
  await db
    .deleteFrom('teams')
    .where('id', 'in', db.selectFrom('memberships').select('team_id').where('user_id', '=', userId))
    .execute()
  await db.deleteFrom('users').where('id', '=', userId).execute()
}

/** A page of users by id, after `afterId`; `email` matches the address in any letter case. */
export async function listUsers(db: Executor, filter: { afterId?: number; limit: number; email?: string; disabled?: boolean }): Promise<User[]> {
  let query = db.selectFrom('users').selectAll()
  if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId)
  if (filter.email !== undefined) query = query.where('email_normalized', '=', normalizeEmail(filter.email))
  if (filter.disabled !== undefined) query = query.where('is_disabled', '=', filter.disabled ? 1 : 0)
  const rows = await query.orderBy('id').limit(filter.limit).execute()
  return rows.map(toUser)
}

const standingInTeamQuery = compiledOnce((db, userId: number, teamId: number) =>
  db
    .selectFrom('users as u')
    .leftJoin('memberships as m', (join) => join.onRef('m.user_id', '=', 'u.id').on('m.team_id', '=', teamId))
    .select(['u.id as user_id', ...JOINED_USER_COLUMNS, 'm.role'])
    .where('u.id', '=', userId),
)

/** A user and whether they belong to a team, in one read: what a grant for a user in a team checks first. */
export async function findUserInTeam(db: Executor, userId: number, teamId: number): Promise<{ user: User; isMember: boolean } | undefined> {
  const row = (await standingInTeamQuery(db, userId, teamId)).rows[0]
  return row && { user: joinedUser(row), isMember: row.role !== null }
}
