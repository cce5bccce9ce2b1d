import { randomUUID } from 'node:crypto'
import type { Db } from '../db/connection.js'
import { hashSecret } from '../crypto/random.js'
import {
  findAdminTokenByHash,
  insertAdminToken,
  listAdminTokens,
  revokeAdminTokenRow,
  touchAdminToken,
  type AdminScope,
  type AdminToken,
} from '../db/admin-tokens.js'
import { Refusal } from '../messages.js'
import { ADMIN_TOKEN_PREFIX } from '../protocol/token-kind.js'
import { checksummedToken, hasChecksummedShape, validateTokenName } from './personal-access-tokens.js'

export type { AdminScope, AdminToken }

export const ADMIN_SCOPES: readonly AdminScope[] = ['admin:read', 'admin:write']
const MIN_LIFETIME_S = 60
const MAX_LIFETIME_S = 366 * 24 * 3600

export function parseAdminScope(value: string): AdminScope {
  const scope = ADMIN_SCOPES.find((s) => s === value)
  if (!scope) throw new Refusal('admin_scope_invalid', 400, value)
  return scope
}

/** admin:write includes admin:read. */
export function adminScopeAllows(held: AdminScope, needed: AdminScope): boolean {
  return held === 'admin:write' || needed === 'admin:read'
}

/** The token is returned this once and stored only as a hash; without a lifetime it lasts until revoked. */
export async function createAdminToken(
  db: Db,
  input: { name: string; scope: string; expiresInSeconds?: number },
  now: number,
): Promise<{ token: string; record: AdminToken }> {
  const name = validateTokenName(input.name)
  const scope = parseAdminScope(input.scope)
  const lifetime = input.expiresInSeconds
  if (lifetime !== undefined && (!Number.isInteger(lifetime) || lifetime < MIN_LIFETIME_S || lifetime > MAX_LIFETIME_S))
    throw new Refusal('admin_token_lifetime_invalid')
  const token = checksummedToken(ADMIN_TOKEN_PREFIX)
  const record = await insertAdminToken(db.kysely, {
    id: randomUUID(),
    name,
    scope,
    tokenHash: hashSecret(token),
    createdAt: now,
    expiresAt: lifetime === undefined ? null : now + lifetime * 1000,
  })
  return { token, record }
}

export function adminTokens(db: Db): Promise<AdminToken[]> {
  return listAdminTokens(db.kysely)
}

export async function revokeAdminToken(db: Db, id: string, now: number): Promise<AdminToken> {
  const revoked = await revokeAdminTokenRow(db.kysely, id, now)
  if (!revoked) throw new Refusal('admin_token_not_found', 404)
  return revoked
}

export type AdminTokenVerdict = { active: true; token: AdminToken } | { active: false; reason: string }

/** The whole check of a presented admin token; only the admin API asks it. */
export async function checkAdminToken(db: Db, token: string, now: number): Promise<AdminTokenVerdict> {
  if (!hasChecksummedShape(token, ADMIN_TOKEN_PREFIX)) return { active: false, reason: 'not an admin token' }
  const found = await findAdminTokenByHash(db.kysely, hashSecret(token))
  if (!found) return { active: false, reason: 'unknown token' }
  if (found.revokedAt) return { active: false, reason: 'token revoked' }
  if (found.expiresAt && found.expiresAt.getTime() <= now) return { active: false, reason: 'token expired' }
  await touchAdminToken(db.kysely, found.id, now)
  return { active: true, token: found }
}
