import type { Selectable } from 'kysely'
import type { User } from '../accounts/types.js'
import type { Executor } from './executor.js'
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
  return row && toUser(row)
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}
