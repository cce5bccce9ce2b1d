import { hashSecret, randomSecret } from '../../crypto/random.js'
import type { Db } from '../../db/connection.js'
import { findRegistrationToken, insertRegistrationToken } from '../../db/registration-tokens.js'
import { Refusal } from '../../messages.js'
import { InvalidToken } from '../../protocol/errors.js'

/** `gatehouse registration-tokens create`: an initial access token (RFC 7591 §3), usable until it expires. */
export async function createRegistrationToken(db: Db, expiresInSeconds: number, now: number): Promise<{ token: string; expiresAt: Date }> {
  if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > 366 * 24 * 3600)
    throw new Refusal('registration_token_lifetime_invalid')
  const token = `gatehouse_reg_${randomSecret(32)}`
  const expiresAt = now + expiresInSeconds * 1000
  await insertRegistrationToken(db.kysely, { tokenHash: hashSecret(token), createdAt: now, expiresAt })
  return { token, expiresAt: new Date(expiresAt) }
}

/** GATEHOUSE_CLIENT_REGISTRATION=token: the bearer must be a live initial access token. */
export async function checkInitialAccessToken(db: Db, token: string | undefined, now: number): Promise<void> {
  const found = token === undefined ? undefined : await findRegistrationToken(db.kysely, hashSecret(token))
  if (!found || found.expiresAt <= now) throw new InvalidToken('Registration needs a valid initial access token: Authorization: Bearer <token>.')
}
