import type { ActivityLog } from '../activity/recorder.js'
import type { LoginThrottle } from '../config.js'
import type { Db } from '../db/connection.js'
import { listMembershipsOfUser } from '../db/teams.js'
import { findCredentialsByEmail, normalizeEmail } from '../db/users.js'
import { Refusal } from '../messages.js'
import { countAgainst, forget, forgive, type AttemptWindow } from '../ratelimit/attempts.js'
import { decoyHash, verifyPassword } from './passwords.js'
import type { User } from './types.js'
import { logins, rateLimitRefusals } from '../observability/metrics.js'

/*
 * The login throttle (OWASP ASVS V2.2.1: slow guessing down without letting
 * anyone lock the owner out). Counted before the password is checked, so
 * attempts made in parallel cannot all slip under a limit:
 * - per address, every attempt (a success takes its own back): one address
 *   cannot try many accounts;
 * - per account and address, failures: one address cannot keep guessing one
 *   account, while the owner at another address logs in as usual;
 * - per account from every address, failures, with a far higher ceiling:
 *   guessing spread over many addresses is slowed down too.
 * An attempt refused by one limit is not counted against the later ones, so
 * one address adds at most its pair limit to the account's count. Unknown
 * and known e-mail addresses are counted and answered alike.
 */

interface Limit {
  key: string
  policy: AttemptWindow
  /** For the activity log, when this limit starts refusing. */
  lockout: string
}

function limits(throttle: LoginThrottle, email: string, address: string): { address: Limit; pair: Limit; account: Limit } {
  const account = normalizeEmail(email)
  const windowSeconds = throttle.windowSeconds
  return {
    address: { key: `login:address:${address}`, policy: { limit: throttle.perAddress, windowSeconds }, lockout: 'too many attempts from this address' },
    pair: {
      key: `login:account-address:${account}|${address}`,
      policy: { limit: throttle.perAccountAndAddress, windowSeconds },
      lockout: 'too many failed attempts on this account from this address',
    },
    account: {
      key: `login:account:${account}`,
      policy: { limit: throttle.perAccount, windowSeconds },
      lockout: 'too many failed attempts on this account from all addresses',
    },
  }
}

async function teamOf(db: Db, userId: number): Promise<number | null> {
  return (await listMembershipsOfUser(db.kysely, userId))[0]?.team.id ?? null
}

/** The login throttle refused the attempt; `retryAfter` is in seconds, until the window ends. */
export class LoginThrottled extends Refusal {
  constructor(readonly retryAfter: number) {
    super('login_throttled', 429)
  }
}

/**
 * Checks an e-mail and password. An unknown e-mail and a wrong password fail
 * the same way, after the same amount of work. Shared by the login page and
 * the password grant, so both count against one throttle.
 */
export async function authenticate(
  db: Db,
  activity: ActivityLog,
  email: string,
  password: string,
  address: string,
  now: number,
  throttle: LoginThrottle,
): Promise<User> {
  const keys = limits(throttle, email, address)
  for (const limit of [keys.address, keys.pair, keys.account]) {
    const tally = await countAgainst(db.kysely, limit.key, limit.policy, now)
    if (!tally.over) continue
    rateLimitRefusals.login.inc()
    ;(tally.justCrossed ? logins.locked : logins.throttled).inc()
    if (tally.justCrossed) {
      const found = await findCredentialsByEmail(db.kysely, email)
      if (found) activity.record({ action: 'login.locked', userId: found.user.id, teamId: await teamOf(db, found.user.id), address, detail: limit.lockout })
    }
    throw new LoginThrottled(tally.retryAfter)
  }
  const onFile = await findCredentialsByEmail(db.kysely, email)
  // A service account has no password and never logs in: it answers as an unknown address does.
  const found = onFile?.user.isServiceAccount ? undefined : onFile
  const ok = await verifyPassword(password, found?.passwordHash ?? (await decoyHash()))
  const teamId = found ? await teamOf(db, found.user.id) : null
  if (!found || !ok) {
    logins.wrong_password.inc()
    if (found) activity.record({ action: 'login.failed', userId: found.user.id, teamId, address })
    throw new Refusal('invalid_credentials', 401)
  }
  if (found.user.isDisabled) {
    logins.disabled.inc()
    throw new Refusal('account_disabled', 403)
  }
  await forgive(db.kysely, keys.address.key)
  await forget(db.kysely, keys.pair.key)
  await forgive(db.kysely, keys.account.key)
  activity.record({ action: 'login.succeeded', userId: found.user.id, teamId, address })
  logins.success.inc()
  return found.user
}
