import type { Db } from '../db/connection.js'
import { clearLoginFailures, forgiveLoginAttempt, recordLoginAttempt } from '../db/login-failures.js'
import { findCredentialsByEmail, normalizeEmail } from '../db/users.js'
import { AppError } from '../messages.js'
import { decoyHash, verifyPassword } from './passwords.js'
import type { User } from './types.js'
import type { ActivityLog } from '../activity/recorder.js'
import { listMembershipsOfUser } from '../db/teams.js'

/**
 * Login attempts are counted per account and per client address over a
 * window (a success takes its own back); past either limit every attempt is
 * refused until the window ends, whether or not the password is right.
 */
export const THROTTLE = {
  windowMs: 15 * 60 * 1000,
  perAccount: 5,
  perAddress: 50,
}

function throttleKeys(email: string, address: string): { account: string; address: string } {
  return { account: `account:${normalizeEmail(email)}`, address: `address:${address}` }
}

/**
 * Counts the attempt before the password is checked, so that attempts made in
 * parallel cannot all slip under the limit; true when over it.
 */
async function countAttempt(db: Db, keys: { account: string; address: string }, now: number): Promise<boolean> {
  const windowStartedBefore = now - THROTTLE.windowMs
  const forAccount = await recordLoginAttempt(db.kysely, keys.account, now, windowStartedBefore)
  const forAddress = await recordLoginAttempt(db.kysely, keys.address, now, windowStartedBefore)
  return forAccount > THROTTLE.perAccount || forAddress > THROTTLE.perAddress
}

/**
 * Checks an e-mail and password. An unknown e-mail and a wrong password fail
 * the same way, after the same amount of work. Shared by the login page and
 * the password grant, so both count against one throttle.
 */
export async function authenticate(db: Db, activity: ActivityLog, email: string, password: string, address: string, now: number): Promise<User> {
  const keys = throttleKeys(email, address)
  if (await countAttempt(db, keys, now)) throw new AppError('login_throttled', 429)
  const found = await findCredentialsByEmail(db.kysely, email)
  const ok = await verifyPassword(password, found?.passwordHash ?? (await decoyHash()))
  const teamId = found ? ((await listMembershipsOfUser(db.kysely, found.user.id))[0]?.team.id ?? null) : null
  if (!found || !ok) {
    if (found) activity.record({ action: 'login.failed', userId: found.user.id, teamId, address })
    throw new AppError('invalid_credentials', 401)
  }
  if (found.user.isDisabled) throw new AppError('account_disabled', 403)
  await clearLoginFailures(db.kysely, keys.account)
  await forgiveLoginAttempt(db.kysely, keys.address)
  activity.record({ action: 'login.succeeded', userId: found.user.id, teamId, address })
  return found.user
}
