import type { Db } from '../db/connection.js'
import { countUsers, deleteUserWithTeams, findUserByEmail } from '../db/users.js'
import { randomSecret } from '../crypto/random.js'
import { Refusal } from '../messages.js'
import { createUser } from './users.js'

export const SANDBOX_EMAIL = 'sandbox@gatehouse.test'

/** What a start found of the accounts: the sandbox login it created, or that nobody can log in yet. */
export interface FirstAccount {
  sandbox: { email: string; password: string } | undefined
  /** No user exists and none was created: the operator creates the first owner with the command line. */
  noUsers: boolean
}

/**
 * On an empty database, creates a sandbox account to log in with (when
 * `sandboxAccount` allows it) and returns its generated password; this is
 * the only time the password exists in clear.
 */
export async function ensureSandboxAccount(db: Db, now: number, sandboxAccount: boolean): Promise<FirstAccount> {
  if ((await countUsers(db.kysely)) > 0) return { sandbox: undefined, noUsers: false }
  if (!sandboxAccount) return { sandbox: undefined, noUsers: true }
  const password = randomSecret(15)
  try {
    await createUser(db, { email: SANDBOX_EMAIL, name: 'Sandbox User', password, teamName: 'Sandbox', isVerified: true }, now)
  } catch (err) {
    // Another process starting on the same database made it first.
    if (err instanceof Refusal && err.code === 'email_taken') return { sandbox: undefined, noUsers: false }
    throw err
  }
  return { sandbox: { email: SANDBOX_EMAIL, password }, noUsers: false }
}

/**
 * Undoes a sandbox account whose password was never shown (the server it
 * was made for failed to start), so that the next start makes a new one.
 */
export async function withdrawSandboxAccount(db: Db): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    const user = await findUserByEmail(trx, SANDBOX_EMAIL)
    if (user) await deleteUserWithTeams(trx, user.id)
  })
}
