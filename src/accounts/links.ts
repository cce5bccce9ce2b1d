import { hashSecret, randomSecret } from '../crypto/random.js'
import {
  consumeAccountLink,
  findAccountLink,
  findAccountLinkByForm,
  insertAccountLink,
  setLinkFormToken,
  type AccountLink,
  type LinkPurpose,
} from '../db/account-links.js'
import type { Executor } from '../db/executor.js'
import { findPasswordHash } from '../db/users.js'
import { Refusal } from '../messages.js'

/** How long the form a link was exchanged for stays open. */
const FORM_TTL_MS = 15 * 60 * 1000

/** What the link is made of: its token is in its path. */
export function linkUrl(issuer: string, purpose: LinkPurpose, token: string): string {
  return `${issuer}/${purpose === 'reset' ? 'reset' : 'verify'}/${token}`
}

async function passwordStamp(db: Executor, userId: number): Promise<string> {
  return hashSecret((await findPasswordHash(db, userId)) ?? '')
}

/** Makes a single-use link for the user, stored by the hash of its token; returns the token. */
export async function issueLink(db: Executor, userId: number, purpose: LinkPurpose, email: string, ttlMs: number, now: number): Promise<string> {
  const token = randomSecret(32)
  await insertAccountLink(db, {
    tokenHash: hashSecret(token),
    userId,
    purpose,
    email,
    passwordStamp: await passwordStamp(db, userId),
    now,
    expiresAt: now + ttlMs,
  })
  return token
}

/** Refuses a link that is unknown (mistyped, altered), used, expired, or, for a reset, made before the password last changed. */
async function refuseDead(db: Executor, link: AccountLink | undefined, purposes: LinkPurpose[], now: number): Promise<AccountLink> {
  if (!link || !purposes.includes(link.purpose)) throw new Refusal('link_unknown', 404)
  if (link.consumedAt !== null) throw new Refusal('link_used', 410)
  if (now >= link.expiresAt) throw new Refusal('link_expired', 410)
  if (link.purpose === 'reset' && link.passwordStamp !== (await passwordStamp(db, link.userId))) throw new Refusal('link_stale', 410)
  return link
}

/**
 * The link's token, followed, is exchanged for a short-lived form token, so
 * the link does not stay in the address bar or the history.
 */
export async function exchangeLink(db: Executor, token: string, purpose: LinkPurpose, now: number): Promise<string> {
  const link = await refuseDead(db, await findAccountLink(db, hashSecret(token)), [purpose], now)
  const formToken = randomSecret(32)
  await setLinkFormToken(db, link.tokenHash, hashSecret(formToken), Math.min(now + FORM_TTL_MS, link.expiresAt))
  return formToken
}

/** The live link a form token stands for. */
export async function linkOfForm(db: Executor, formToken: string, purpose: LinkPurpose, now: number): Promise<AccountLink> {
  return refuseDead(db, await findAccountLinkByForm(db, hashSecret(formToken), now), [purpose], now)
}

/** Uses the link followed: checks it as `linkOfForm` does, then marks it used, once. */
export async function useLink(db: Executor, token: string, purposes: LinkPurpose[], now: number): Promise<AccountLink> {
  const link = await refuseDead(db, await findAccountLink(db, hashSecret(token)), purposes, now)
  if (!(await consumeAccountLink(db, link.tokenHash, now))) throw new Refusal('link_used', 410)
  return link
}

/** Marks a link found by `linkOfForm` used, once. */
export async function consumeLink(db: Executor, link: AccountLink, now: number): Promise<void> {
  if (!(await consumeAccountLink(db, link.tokenHash, now))) throw new Refusal('link_used', 410)
}
