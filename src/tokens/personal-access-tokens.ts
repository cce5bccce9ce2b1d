import { randomBytes, randomUUID } from 'node:crypto'
import { crc32 } from 'node:zlib'
import type { Db } from '../db/connection.js'
import { hashSecret } from '../crypto/random.js'
import {
  deletePersonalAccessToken as deleteRow,
  findPersonalAccessTokenHolder,
  insertPersonalAccessToken,
  listPersonalAccessTokens,
  type PersonalAccessToken,
} from '../db/personal-access-tokens.js'
import { Refusal } from '../messages.js'
import { PAT_PREFIX } from '../protocol/token-kind.js'
import { validName } from '../names.js'
import type { User } from '../accounts/types.js'

export type { PersonalAccessToken }

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const BODY_LENGTH = 43 // 256 bits in base62
const CHECKSUM_LENGTH = 6
export const PAT_MAX_LIFETIME_DAYS = 365

function base62(value: bigint, length: number): string {
  let out = ''
  let rest = value
  while (out.length < length) {
    out = ALPHABET[Number(rest % 62n)]! + out
    rest /= 62n
  }
  return out
}

function checksum(body: string): string {
  return base62(BigInt(crc32(body)), CHECKSUM_LENGTH)
}

/** The prefix + 256 random bits in base62 + a CRC32 checksum, so a scanner can tell a real token from noise offline. */
export function checksummedToken(prefix: string): string {
  const body = base62(BigInt('0x' + randomBytes(32).toString('hex')), BODY_LENGTH)
  return prefix + body + checksum(body)
}

export function hasChecksummedShape(token: string, prefix: string): boolean {
  if (!token.startsWith(prefix) || token.length !== prefix.length + BODY_LENGTH + CHECKSUM_LENGTH) return false
  const body = token.slice(prefix.length, prefix.length + BODY_LENGTH)
  return /^[0-9A-Za-z]+$/.test(body) && token.endsWith(checksum(body))
}

export function generatePersonalAccessToken(): string {
  return checksummedToken(PAT_PREFIX)
}

export function looksLikePersonalAccessToken(token: string): boolean {
  return hasChecksummedShape(token, PAT_PREFIX)
}

export function validateTokenName(name: string): string {
  return validName(name, { required: 'token_name_required', controlCharacters: 'token_name_control_characters', tooLong: 'token_name_too_long' })
}

/** Creates a token bound to the user's active team; the value is returned this once and stored only as a hash. */
export async function createPersonalAccessToken(
  db: Db,
  input: { userId: number; teamId: number; name: string; lifetimeDays?: number },
  now: number,
): Promise<{ token: string; record: PersonalAccessToken }> {
  const name = validateTokenName(input.name)
  const days = input.lifetimeDays ?? PAT_MAX_LIFETIME_DAYS
  if (!Number.isInteger(days) || days < 1 || days > PAT_MAX_LIFETIME_DAYS) throw new Refusal('token_lifetime_invalid')
  const token = generatePersonalAccessToken()
  const record = await insertPersonalAccessToken(db.kysely, {
    id: randomUUID(),
    userId: input.userId,
    teamId: input.teamId,
    name,
    tokenHash: hashSecret(token),
    createdAt: now,
    expiresAt: now + days * 24 * 3600 * 1000,
  })
  return { token, record }
}

export type PersonalAccessTokenVerdict = { active: true; token: PersonalAccessToken; user: User } | { active: false; reason: string }

/** The whole check of a presented personal access token: format, then the database's word. */
export async function checkPersonalAccessToken(db: Db, token: string, now: number): Promise<PersonalAccessTokenVerdict> {
  if (!looksLikePersonalAccessToken(token)) return { active: false, reason: 'malformed token' }
  const holder = await findPersonalAccessTokenHolder(db.kysely, hashSecret(token))
  if (!holder) return { active: false, reason: 'token revoked' }
  if (holder.token.expiresAt.getTime() <= now) return { active: false, reason: 'token expired' }
  const user = holder.user
  if (user.isDisabled) return { active: false, reason: 'user disabled' }
  if (!holder.isMember) return { active: false, reason: 'user left the team' }
  return { active: true, token: holder.token, user }
}

export function personalAccessTokensOf(db: Db, userId: number, teamId: number): Promise<PersonalAccessToken[]> {
  return listPersonalAccessTokens(db.kysely, userId, teamId)
}

/** Deletes the user's token; it stops working at once. */
export async function deletePersonalAccessToken(db: Db, id: string, userId: number): Promise<PersonalAccessToken> {
  const deleted = await deleteRow(db.kysely, id, userId)
  if (!deleted) throw new Refusal('token_not_found', 404)
  return deleted
}
