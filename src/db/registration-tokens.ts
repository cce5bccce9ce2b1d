import type { Executor } from './executor.js'

export async function insertRegistrationToken(db: Executor, token: { tokenHash: string; createdAt: number; expiresAt: number }): Promise<void> {
  await db.insertInto('registration_tokens').values({ token_hash: token.tokenHash, created_at: token.createdAt, expires_at: token.expiresAt }).execute()
}

export async function findRegistrationToken(db: Executor, tokenHash: string): Promise<{ expiresAt: number } | undefined> {
  const row = await db.selectFrom('registration_tokens').select('expires_at').where('token_hash', '=', tokenHash).executeTakeFirst()
  return row && { expiresAt: row.expires_at }
}
