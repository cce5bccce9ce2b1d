import type { ActivityLog } from '../activity/recorder.js'
import type { Db } from '../db/connection.js'
import { isUniqueViolation } from '../db/errors.js'
import { findTeamByName, insertTeam, upsertMembership } from '../db/teams.js'
import { findUserByEmail, insertUser, normalizeEmail } from '../db/users.js'
import type { MailQueue } from '../mail/outbox.js'
import { alreadyRegisteredMail } from '../mail/templates.js'
import { Refusal } from '../messages.js'
import { countAgainst, type AttemptWindow } from '../ratelimit/attempts.js'
import { verificationFor } from './email-address.js'
import { hashPassword } from './passwords.js'
import { checkNewAccount } from './users.js'

/**
 * Each sign-up sends a mail to the address typed in: a few per address an
 * hour, and more per network address, so the form cannot be used to flood
 * someone's inbox.
 */
const PER_EMAIL: AttemptWindow = { limit: 3, windowSeconds: 3600 }
const PER_NETWORK_ADDRESS: AttemptWindow = { limit: 20, windowSeconds: 3600 }

export interface SignupDeps {
  db: Db
  activity: ActivityLog
  mail: MailQueue & { beside(work: Promise<void>): void }
  issuer: string
  clock: () => number
}

export interface SignupInput {
  name: string
  email: string
  password: string
}

/** A name for the new user's own team that no team has yet. */
async function freeTeamName(db: Db, userName: string): Promise<string> {
  const base = `${userName}'s team`
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base} ${n}`
    if (!(await findTeamByName(db.kysely, name))) return name
  }
}

async function createAccount(deps: SignupDeps, input: SignupInput, address: string | null): Promise<void> {
  const now = deps.clock()
  const existing = await findUserByEmail(deps.db.kysely, input.email)
  if (existing) {
    await deps.mail.queue({
      to: existing.email,
      kind: 'already_registered',
      userId: existing.id,
      ...alreadyRegisteredMail(deps.mail.productName, existing.name, deps.issuer),
    })
    return
  }
  const passwordHash = await hashPassword(input.password)
  const teamName = await freeTeamName(deps.db, input.name.trim())
  let created
  try {
    created = await deps.db.kysely.transaction().execute(async (trx) => {
      const user = await insertUser(trx, { email: input.email, name: input.name.trim(), passwordHash, isVerified: false, now })
      const team = await insertTeam(trx, teamName, now)
      await upsertMembership(trx, team.id, user.id, 'owner', now)
      const verification = await verificationFor(trx, deps.issuer, deps.mail.productName, user, now)
      return { user, team, verification }
    })
  } catch (err) {
    // The same address signed up twice at once: the second is told it has an account, as above.
    if (isUniqueViolation(err)) return createAccount(deps, input, address)
    throw err
  }
  const { user, team, verification } = created
  deps.activity.record({ action: 'account.signed_up', teamId: team.id, userId: user.id, detail: user.email, address })
  await deps.mail.queue({ ...verification, teamId: team.id })
}

/**
 * Signs someone up: a user, a team of their own, and a mail to the address.
 * An address that has an account already gets a mail saying so instead; the
 * work happens beside the answer, so whoever typed the address learns from
 * neither the page nor its timing whether it has an account.
 */
export async function signUp(deps: SignupDeps, input: SignupInput, address: string): Promise<void> {
  await checkNewAccount(input)
  if (!deps.mail.canSend) throw new Refusal('mail_unavailable', 503)
  const now = deps.clock()
  const perEmail = await countAgainst(deps.db.kysely, `signup:email:${normalizeEmail(input.email)}`, PER_EMAIL, now)
  const perAddress = await countAgainst(deps.db.kysely, `signup:address:${address}`, PER_NETWORK_ADDRESS, now)
  if (perEmail.over || perAddress.over) throw new Refusal('signup_throttled', 429)
  deps.mail.beside(createAccount(deps, { ...input, email: input.email.trim() }, address))
}
