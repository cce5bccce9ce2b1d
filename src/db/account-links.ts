import type { Executor } from './executor.js'

export type LinkPurpose = 'reset' | 'verify' | 'email_change'

export interface AccountLink {
  tokenHash: string
  userId: number
  purpose: LinkPurpose
  email: string
  passwordStamp: string
  expiresAt: number
  consumedAt: number | null
}

export interface NewAccountLink {
  tokenHash: string
  userId: number
  purpose: LinkPurpose
  email: string
  passwordStamp: string
  now: number
  expiresAt: number
}

export async function insertAccountLink(db: Executor, link: NewAccountLink): Promise<void> {
  await db
    .insertInto('account_links')
    .values({
      token_hash: link.tokenHash,
      user_id: link.userId,
      purpose: link.purpose,
      email: link.email,
      password_stamp: link.passwordStamp,
      form_token_hash: null,
      form_expires_at: null,
      created_at: link.now,
      expires_at: link.expiresAt,
      consumed_at: null,
    })
    .execute()
}

function toLink(row: {
  token_hash: string
  user_id: number
  purpose: string
  email: string
  password_stamp: string
  expires_at: number
  consumed_at: number | null
}): AccountLink {
  return {
    tokenHash: row.token_hash,
    userId: Number(row.user_id),
    purpose: row.purpose as LinkPurpose,
    email: row.email,
    passwordStamp: row.password_stamp,
    expiresAt: Number(row.expires_at),
    consumedAt: row.consumed_at === null ? null : Number(row.consumed_at),
  }
}

export async function findAccountLink(db: Executor, tokenHash: string): Promise<AccountLink | undefined> {
  const row = await db.selectFrom('account_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
  return row && toLink(row)
}

/** The link a live form token was exchanged for. */
export async function findAccountLinkByForm(db: Executor, formTokenHash: string, now: number): Promise<AccountLink | undefined> {
  const row = await db
    .selectFrom('account_links')
    .selectAll()
    .where('form_token_hash', '=', formTokenHash)
    .where('form_expires_at', '>', now)
    .executeTakeFirst()
  return row && toLink(row)
}

/** Binds a new form token to the link; the one bound before stops working. */
export async function setLinkFormToken(db: Executor, tokenHash: string, formTokenHash: string, formExpiresAt: number): Promise<void> {
  await db.updateTable('account_links').set({ form_token_hash: formTokenHash, form_expires_at: formExpiresAt }).where('token_hash', '=', tokenHash).execute()
}

/** Marks the link used: true for exactly one caller however many race, false once it was used. */
export async function consumeAccountLink(db: Executor, tokenHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('account_links')
    .set({ consumed_at: now, form_token_hash: null })
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
