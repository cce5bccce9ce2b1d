import { isUniqueViolation } from '../db/errors.js'
import type { Executor } from '../db/executor.js'
import { findUserByEmail, findUserById, normalizeEmail, setUserName, setUserVerifiedEmail } from '../db/users.js'
import type { OutgoingMail } from '../mail/outbox.js'
import { emailChangeMail, emailChangeNoticeMail, verificationMail } from '../mail/templates.js'
import { Refusal } from '../messages.js'
import { validName } from '../names.js'
import { countAgainst } from '../ratelimit/attempts.js'
import { recordAccountEvent } from './account-activity.js'
import { issueLink, linkUrl, useLink } from './links.js'
import type { AccountDeps } from './password-reset.js'
import type { User } from './types.js'
import { checkEmail } from './users.js'

/** Verification and address-change links stay valid a day: the mail may be read later than a reset's. */
const EMAIL_LINK_TTL_MS = 24 * 3600 * 1000
/** Links of either kind a user may have sent in an hour. */
const EMAIL_LINK_THROTTLE = { limit: 5, windowSeconds: 3600 }

async function throttle(deps: AccountDeps, user: User): Promise<void> {
  if ((await countAgainst(deps.db.kysely, `email-link:user:${user.id}`, EMAIL_LINK_THROTTLE, deps.clock())).over) {
    throw new Refusal('verification_throttled', 429)
  }
}

/**
 * The mail with a new link that proves the address is the user's: the same
 * link, page and rule whether the account was just signed up for or the user
 * asked again.
 */
export async function verificationFor(
  db: Executor,
  issuer: string,
  product: string,
  user: Pick<User, 'id' | 'name' | 'email'>,
  now: number,
): Promise<OutgoingMail> {
  const token = await issueLink(db, user.id, 'verify', user.email, EMAIL_LINK_TTL_MS, now)
  return { to: user.email, kind: 'email_verification', userId: user.id, ...verificationMail(product, user.name, linkUrl(issuer, 'verify', token)) }
}

/** Sends the user a link that proves their address is theirs ("Send the link again"). */
export async function sendVerification(deps: AccountDeps, user: User, address: string): Promise<void> {
  if (!deps.mail.canSend) throw new Refusal('mail_unavailable', 503)
  await throttle(deps, user)
  await deps.mail.queue(await verificationFor(deps.db.kysely, deps.config.issuer, deps.mail.productName, user, deps.clock()))
  await recordAccountEvent(deps, 'email.verification_requested', user.id, user.email, address)
}

/** A new address: a link goes to it (the change happens only when it is followed) and a notice to the current one. */
export async function requestEmailChange(deps: AccountDeps, user: User, newEmail: string, address: string): Promise<void> {
  if (!deps.mail.canSend) throw new Refusal('mail_unavailable', 503)
  checkEmail(newEmail)
  const email = newEmail.trim()
  if (normalizeEmail(email) === normalizeEmail(user.email)) throw new Refusal('email_unchanged')
  if (await findUserByEmail(deps.db.kysely, email)) throw new Refusal('email_taken', 409)
  await throttle(deps, user)
  const token = await issueLink(deps.db.kysely, user.id, 'email_change', email, EMAIL_LINK_TTL_MS, deps.clock())
  const link = linkUrl(deps.config.issuer, 'email_change', token)
  await deps.mail.queue({ to: email, kind: 'email_change', userId: user.id, ...emailChangeMail(deps.mail.productName, user.name, email, link) })
  await deps.mail.queue({
    to: user.email,
    kind: 'email_change_notice',
    userId: user.id,
    ...emailChangeNoticeMail(deps.mail.productName, user.name, email, deps.config.issuer),
  })
  await recordAccountEvent(deps, 'email.change_requested', user.id, `${user.email} to ${email}`, address)
}

/** Follows a verification or address-change link: the address it was sent to becomes the user's, verified. */
export async function followEmailLink(deps: AccountDeps, token: string, address: string): Promise<{ purpose: 'verify' | 'email_change'; user: User }> {
  const link = await useLink(deps.db.kysely, token, ['verify', 'email_change'], deps.clock())
  const user = await findUserById(deps.db.kysely, link.userId)
  if (!user || user.isDisabled) throw new Refusal('link_unknown', 404)
  // A verification link proves only the address it was sent to, which may no longer be the user's.
  if (link.purpose === 'verify' && normalizeEmail(link.email) !== normalizeEmail(user.email)) throw new Refusal('link_stale', 410)
  try {
    await setUserVerifiedEmail(deps.db.kysely, user.id, link.email, deps.clock())
  } catch (err) {
    if (isUniqueViolation(err)) throw new Refusal('email_taken', 409)
    throw err
  }
  if (link.purpose === 'verify') await recordAccountEvent(deps, 'email.verified', user.id, link.email, address)
  else await recordAccountEvent(deps, 'email.change_completed', user.id, `${user.email} to ${link.email}`, address)
  return { purpose: link.purpose === 'verify' ? 'verify' : 'email_change', user: (await findUserById(deps.db.kysely, user.id)) ?? user }
}

export async function renameUser(deps: Pick<AccountDeps, 'db' | 'clock'>, user: User, name: string): Promise<void> {
  validName(name, { required: 'name_required', controlCharacters: 'name_control_characters' })
  await setUserName(deps.db.kysely, user.id, name.trim(), deps.clock())
}
