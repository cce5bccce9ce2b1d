import type { ActivityLog } from '../activity/recorder.js'
import type { Config } from '../config.js'
import type { Db } from '../db/connection.js'
import { deleteOtherSessionsOfUser, deleteSessionsOfUser, type EndedSession } from '../db/sessions.js'
import { findPasswordHash, findUserByEmail, findUserById, normalizeEmail, setUserPassword } from '../db/users.js'
import { hashSecret } from '../crypto/random.js'
import type { MailQueue } from '../mail/outbox.js'
import { passwordChangedMail, passwordResetMail } from '../mail/templates.js'
import { Refusal } from '../messages.js'
import { countAgainst } from '../ratelimit/attempts.js'
import { recordAccountEvent } from './account-activity.js'
import { consumeLink, issueLink, linkOfForm, linkUrl } from './links.js'
import { checkNewPassword, hashPassword, verifyPassword } from './passwords.js'
import type { User } from './types.js'
import { checkEmail } from './users.js'

export interface AccountDeps {
  db: Db
  mail: MailQueue
  activity: ActivityLog
  config: Pick<Config, 'issuer' | 'resetTtlSeconds'>
  clock: () => number
  /** Hears of the sessions a new password ended (back-channel logout). */
  sessionsEnded?: (ended: EndedSession[]) => void
}

/** Reset links asked for per address asked about, and per calling address, in an hour. */
const RESET_THROTTLE = { perRecipient: { limit: 5, windowSeconds: 3600 }, perAddress: { limit: 30, windowSeconds: 3600 } }

/**
 * "Forgot your password?": the same answer after the same work whether or
 * not an account has the address, so the form cannot tell who has one; the
 * link is made and queued beside the request, for known addresses only.
 */
export async function requestPasswordReset(deps: AccountDeps, email: string, address: string): Promise<void> {
  if (!deps.mail.canSend) throw new Refusal('mail_unavailable', 503)
  checkEmail(email)
  const now = deps.clock()
  for (const [key, policy] of [
    [`reset:recipient:${normalizeEmail(email)}`, RESET_THROTTLE.perRecipient],
    [`reset:address:${address}`, RESET_THROTTLE.perAddress],
  ] as const) {
    if ((await countAgainst(deps.db.kysely, key, policy, now)).over) throw new Refusal('reset_throttled', 429)
  }
  const user = await findUserByEmail(deps.db.kysely, email)
  if (user && !user.isDisabled && !user.isServiceAccount) deps.mail.beside(sendResetLink(deps, user, address))
}

async function sendResetLink(deps: AccountDeps, user: User, address: string): Promise<void> {
  const now = deps.clock()
  const token = await issueLink(deps.db.kysely, user.id, 'reset', user.email, deps.config.resetTtlSeconds * 1000, now)
  const link = linkUrl(deps.config.issuer, 'reset', token)
  await deps.mail.queue({
    to: user.email,
    kind: 'password_reset',
    userId: user.id,
    ...passwordResetMail(deps.mail.productName, user.name, link, deps.config.resetTtlSeconds),
  })
  await recordAccountEvent(deps, 'password.reset_requested', user.id, user.email, address)
}

/** The operator's way to help someone without mail: a reset link, printed rather than sent. */
export async function operatorResetLink(deps: Omit<AccountDeps, 'mail'>, email: string): Promise<{ user: User; link: string; expiresAt: Date }> {
  const user = await findUserByEmail(deps.db.kysely, email)
  if (!user) throw new Refusal('user_not_found', 404, email)
  if (user.isServiceAccount) throw new Refusal('service_account_no_password')
  const now = deps.clock()
  const ttlMs = deps.config.resetTtlSeconds * 1000
  const token = await issueLink(deps.db.kysely, user.id, 'reset', user.email, ttlMs, now)
  await recordAccountEvent(deps, 'password.reset_requested', user.id, `${user.email}, by an administrator`)
  return { user, link: linkUrl(deps.config.issuer, 'reset', token), expiresAt: new Date(now + ttlMs) }
}

/**
 * Sets the password and signs out the user's sessions (all of them, or all
 * but `keepSessionHash`); apps' grants and personal access tokens stay, as
 * the page says. The user hears of it by mail.
 */
async function replacePassword(deps: AccountDeps, user: User, password: string, verified: boolean, keepSessionId?: string): Promise<void> {
  const passwordHash = await hashPassword(password)
  const now = deps.clock()
  const ended = await deps.db.kysely.transaction().execute(async (trx) => {
    await setUserPassword(trx, user.id, passwordHash, verified, now)
    return keepSessionId === undefined ? deleteSessionsOfUser(trx, user.id) : deleteOtherSessionsOfUser(trx, user.id, hashSecret(keepSessionId))
  })
  deps.sessionsEnded?.(ended)
  if (deps.mail.canSend)
    await deps.mail.queue({
      to: user.email,
      kind: 'password_changed',
      userId: user.id,
      ...passwordChangedMail(deps.mail.productName, user.name, deps.config.issuer),
    })
}

/** The user the form token's reset link is for. */
export async function resetLinkUser(deps: Pick<AccountDeps, 'db' | 'clock'>, formToken: string): Promise<User> {
  const link = await linkOfForm(deps.db.kysely, formToken, 'reset', deps.clock())
  const user = await findUserById(deps.db.kysely, link.userId)
  if (!user || user.isDisabled) throw new Refusal('link_unknown', 404)
  return user
}

/** Sets the new password of a followed reset link; following it proved the address, so the user is verified. */
export async function resetPassword(deps: AccountDeps, formToken: string, password: string, address: string): Promise<User> {
  const link = await linkOfForm(deps.db.kysely, formToken, 'reset', deps.clock())
  const user = await findUserById(deps.db.kysely, link.userId)
  if (!user || user.isDisabled) throw new Refusal('link_unknown', 404)
  await checkNewPassword(password)
  await consumeLink(deps.db.kysely, link, deps.clock())
  await replacePassword(deps, user, password, normalizeEmail(link.email) === normalizeEmail(user.email))
  await recordAccountEvent(deps, 'password.reset_completed', user.id, user.email, address)
  return (await findUserById(deps.db.kysely, user.id)) ?? user
}

/** A logged-in user's new password: the current one first; every other session is signed out. */
export async function changePassword(deps: AccountDeps, user: User, sessionId: string, current: string, password: string, address: string): Promise<void> {
  const stored = await findPasswordHash(deps.db.kysely, user.id)
  if (!stored || !(await verifyPassword(current, stored))) throw new Refusal('password_incorrect')
  await checkNewPassword(password)
  await replacePassword(deps, user, password, false, sessionId)
  await recordAccountEvent(deps, 'password.changed', user.id, user.email, address)
}

/** The operator sets a password (`gatehouse users set-password`): every session of the user ends. */
export async function setPasswordByOperator(deps: AccountDeps, email: string, password: string): Promise<User> {
  const user = await findUserByEmail(deps.db.kysely, email)
  if (!user) throw new Refusal('user_not_found', 404, email)
  if (user.isServiceAccount) throw new Refusal('service_account_no_password')
  await checkNewPassword(password)
  await replacePassword(deps, user, password, false)
  await recordAccountEvent(deps, 'password.changed', user.id, `${user.email}, by an administrator`)
  return user
}
