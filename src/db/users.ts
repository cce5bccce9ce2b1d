import type { Selectable } from 'kysely'
import type { User } from '../accounts/types.js'
import type { Executor } from './executor.js'
import { announceRevoked } from './revocations.js'
import type { UserTable } from './schema.js'

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

export function toUser(row: Selectable<UserTable>): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    isVerified: row.is_verified === 1,
    isDisabled: row.is_disabled === 1,
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

/**
 * The user's columns for a query that joins `users as u` to a token row,
 * aliased so they cannot clash with the token's; the id is the token's `user_id`.
 */
export const JOINED_USER_COLUMNS = [
  'u.email as user_email',
  'u.name as user_name',
  'u.is_verified as user_is_verified',
  'u.is_disabled as user_is_disabled',
  'u.created_at as user_created_at',
  'u.updated_at as user_updated_at',
] as const

export function joinedUser(row: {
  user_id: number
  user_email: string
  user_name: string
  user_is_verified: number
  user_is_disabled: number
  user_created_at: number
  user_updated_at: number
}): User {
  return {
    id: row.user_id,
    email: row.user_email,
    name: row.user_name,
    isVerified: row.user_is_verified === 1,
    isDisabled: row.user_is_disabled === 1,
    createdAt: new Date(row.user_created_at),
    updatedAt: new Date(row.user_updated_at),
  }
}
