import type { Db } from '../db/connection.js'
import { countUsers } from '../db/users.js'
import { randomSecret } from '../crypto/random.js'
import { Refusal } from '../messages.js'
import { createUser } from './users.js'

export const SANDBOX_EMAIL = 'sandbox@gatehouse.test'

/**
 * On an empty database, creates a sandbox account to log in with and returns
 * its generated password; this is the only time the password exists in clear.
 */
export async function ensureSandboxAccount(db: Db, now: number): Promise<{ email: string; password: string } | undefined> {
  if ((await countUsers(db.kysely)) > 0) return undefined
  const password = randomSecret(15)
  try {
    await createUser(db, { email: SANDBOX_EMAIL, name: 'Sandbox User', password, teamName: 'Sandbox' }, now)
  } catch (err) {
    // Another process starting on the same database made it first.
    if (err instanceof Refusal && err.code === 'email_taken') return undefined
    throw err
  }
  return { email: SANDBOX_EMAIL, password }
}
