import type { Selectable } from 'kysely'
import type { Executor } from './executor.js'
import type { AdminTokenTable } from './schema.js'

export type AdminScope = AdminTokenTable['scope']

export interface AdminToken {
  id: string
  name: string
  scope: AdminScope
  createdAt: Date
  expiresAt: Date | null
  revokedAt: Date | null
  lastUsedAt: Date | null
}

const date = (value: number | null): Date | null => (value === null ? null : new Date(value))

function toAdminToken(row: Omit<Selectable<AdminTokenTable>, 'token_hash'>): AdminToken {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    createdAt: new Date(row.created_at),
    expiresAt: date(row.expires_at),
    revokedAt: date(row.revoked_at),
    lastUsedAt: date(row.last_used_at),
  }
}

const COLUMNS = ['id', 'name', 'scope', 'created_at', 'expires_at', 'revoked_at', 'last_used_at'] as const

export async function insertAdminToken(
  db: Executor,
  token: { id: string; name: string; scope: AdminScope; tokenHash: string; createdAt: number; expiresAt: number | null },
): Promise<AdminToken> {
  const row = await db
    .insertInto('admin_tokens')
    .values({
      id: token.id,
      name: token.name,
      scope: token.scope,
      token_hash: token.tokenHash,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      revoked_at: null,
      last_used_at: null,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow()
  return toAdminToken(row)
}

export async function findAdminTokenByHash(db: Executor, tokenHash: string): Promise<AdminToken | undefined> {
  const row = await db.selectFrom('admin_tokens').select(COLUMNS).where('token_hash', '=', tokenHash).executeTakeFirst()
  return row && toAdminToken(row)
}

export async function listAdminTokens(db: Executor): Promise<AdminToken[]> {
  const rows = await db.selectFrom('admin_tokens').select(COLUMNS).orderBy('created_at', 'asc').orderBy('id', 'asc').execute()
  return rows.map(toAdminToken)
}

/** Marks the token revoked; undefined when no token has the id or it was revoked already. */
export async function revokeAdminTokenRow(db: Executor, id: string, now: number): Promise<AdminToken | undefined> {
  const row = await db
    .updateTable('admin_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(COLUMNS)
    .executeTakeFirst()
  return row && toAdminToken(row)
}

/** Recorded at most once a minute per token, so a busy integration costs no write per call. */
export async function touchAdminToken(db: Executor, id: string, now: number): Promise<void> {
  await db
    .updateTable('admin_tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', now - 60_000)]))
    .execute()
}
