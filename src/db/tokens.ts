import type { Kysely, Selectable, Transaction } from 'kysely'
import type { User } from '../accounts/types.js'
import {
  NO_OPENID_LOGIN,
  type AccessTokenRecord,
  type Grant,
  type GrantSelection,
  type HolderStanding,
  type OpenIdLogin,
  type RefreshTokenRecord,
} from '../tokens/types.js'
import { Columns, type Fields } from './columns.js'
import { compiledOnce } from './compiled.js'
import type { Executor } from './executor.js'
import { announceRevoked } from './revocations.js'
import type { Database, GrantTable } from './schema.js'
import { JOINED_USER_COLUMNS, joinedUser } from './users.js'

/** The columns of grants, access tokens and refresh tokens, for every statement that writes or reads a whole row. */
// What a grant and each access token it issues both carry: whose authority, for which client, how much.
const AUTHORITY = { client_id: 'text', user_id: 'bigint', team_id: 'bigint', scopes: 'text', resources: 'text', created_at: 'bigint' } as const

export const GRANTS = new Columns('grants', {
  id: 'text',
  ...AUTHORITY,
  revoked_at: 'bigint',
  nonce: 'text',
  sid: 'text',
  auth_time: 'bigint',
  amr: 'text',
  parent_grant_id: 'text',
})
export const ACCESS_TOKENS = new Columns('access_tokens', {
  jti: 'text',
  grant_id: 'text',
  ...AUTHORITY,
  expires_at: 'bigint',
  revoked_at: 'bigint',
  act: 'text',
})
export const REFRESH_TOKENS = new Columns('refresh_tokens', {
  token_hash: 'text',
  grant_id: 'text',
  access_token_jti: 'text',
  client_id: 'text',
  created_at: 'bigint',
  expires_at: 'bigint',
  consumed_at: 'bigint',
  revoked_at: 'bigint',
})

function toGrant({ nonce, sid, authTime, amr, ...grant }: Fields<Selectable<GrantTable>>): Grant {
  return { ...grant, login: { nonce, sid, authTime, amr } }
}

export type NewGrant = Omit<Grant, 'revokedAt' | 'login' | 'resources' | 'parentGrantId'> & { login?: OpenIdLogin; resources?: string; parentGrantId?: string }
export type NewAccessToken = Omit<AccessTokenRecord, 'revokedAt' | 'resources' | 'act'> & { resources?: string; act?: string | null }
export type NewRefreshToken = Omit<RefreshTokenRecord, 'consumedAt' | 'revokedAt'>

/** A new grant's row: `login` only for OpenID Connect grants; without `resources`, the grant's tokens are for the client itself. */
export function grantRow({ login, ...grant }: NewGrant): Fields<Selectable<GrantTable>> {
  return { ...grant, ...(login ?? NO_OPENID_LOGIN), resources: grant.resources ?? '', parentGrantId: grant.parentGrantId ?? null, revokedAt: null }
}

export function accessTokenRow(token: NewAccessToken): AccessTokenRecord {
  return { ...token, resources: token.resources ?? '', act: token.act ?? null, revokedAt: null }
}

export function refreshTokenRow(token: NewRefreshToken): RefreshTokenRecord {
  return { ...token, consumedAt: null, revokedAt: null }
}

const insertGrantRow = GRANTS.inserter()
const insertAccessTokenRow = ACCESS_TOKENS.inserter()
const insertRefreshTokenRow = REFRESH_TOKENS.inserter()

export async function insertGrant(db: Executor, grant: NewGrant): Promise<void> {
  await insertGrantRow(db, grantRow(grant))
}

export async function insertAccessToken(db: Executor, token: NewAccessToken): Promise<void> {
  await insertAccessTokenRow(db, accessTokenRow(token))
}

export async function insertRefreshToken(db: Executor, token: NewRefreshToken): Promise<void> {
  await insertRefreshTokenRow(db, refreshTokenRow(token))
}

export async function findAccessToken(db: Executor, jti: string): Promise<AccessTokenRecord | undefined> {
  const row = await db.selectFrom('access_tokens').selectAll().where('jti', '=', jti).executeTakeFirst()
  return row && ACCESS_TOKENS.read(row)
}

const revokeAccessTokenStatement = compiledOnce((db, jti: string, now: number) =>
  db.updateTable('access_tokens').set({ revoked_at: now }).where('jti', '=', jti).where('revoked_at', 'is', null).returning('user_id'),
)

export async function revokeAccessToken(db: Executor, jti: string, now: number): Promise<void> {
  const { rows } = await revokeAccessTokenStatement(db, jti, now)
  announceRevoked(
    db,
    rows.map((row) => row.user_id),
  )
}

function grantIdsOf(db: Executor, which: GrantSelection) {
  const f: { grantId?: string; clientId?: string; userId?: number; teamId?: number } = which
  let query = db.selectFrom('grants').select('id')
  if (f.grantId !== undefined) query = query.where('id', '=', f.grantId)
  if (f.clientId !== undefined) query = query.where('client_id', '=', f.clientId)
  if (f.userId !== undefined) query = query.where('user_id', '=', f.userId)
  if (f.teamId !== undefined) query = query.where('team_id', '=', f.teamId)
  return query
}

/**
 * Ends grants and every token descending from them, exchanged tokens (RFC
 * 8693) included, however long the chain; returns how many grants it ended.
 * Several statements, so it takes a transaction: a family is revoked whole
 * or not at all.
 */
export async function revokeGrants(trx: Transaction<Database>, which: GrantSelection, now: number): Promise<number> {
  const first = 'grantId' in which ? [which.grantId] : grantIdsOf(trx, which)
  let ended = await revokeGrantRows(trx, first, now)
  let children = await childGrantIds(trx, first)
  while (children.length > 0) {
    ended += await revokeGrantRows(trx, children, now)
    children = await childGrantIds(trx, children)
  }
  return ended
}

type GrantIds = string[] | ReturnType<typeof grantIdsOf>

/** One grant, the commonest family (a client's revocation, a replay): its statements are built once. */
const oneGrant = {
  revoke: compiledOnce((db, id: string, now: number) => db.updateTable('grants').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null)),
  revokeAccessTokens: compiledOnce((db, id: string, now: number) =>
    db.updateTable('access_tokens').set({ revoked_at: now }).where('grant_id', '=', id).where('revoked_at', 'is', null).returning('user_id'),
  ),
  revokeRefreshTokens: compiledOnce((db, id: string, now: number) =>
    db.updateTable('refresh_tokens').set({ revoked_at: now }).where('grant_id', '=', id).where('revoked_at', 'is', null),
  ),
  children: compiledOnce((db, id: string) => db.selectFrom('grants').select('id').where('parent_grant_id', '=', id)),
}

function onlyOne(ids: GrantIds): string | undefined {
  return Array.isArray(ids) && ids.length === 1 ? ids[0] : undefined
}

async function childGrantIds(trx: Transaction<Database>, parents: GrantIds): Promise<string[]> {
  const one = onlyOne(parents)
  const rows =
    one === undefined ? await trx.selectFrom('grants').select('id').where('parent_grant_id', 'in', parents).execute() : (await oneGrant.children(trx, one)).rows
  return rows.map((row) => row.id)
}

async function revokeGrantRows(trx: Transaction<Database>, ids: GrantIds, now: number): Promise<number> {
  const one = onlyOne(ids)
  if (one !== undefined) {
    const grants = await oneGrant.revoke(trx, one, now)
    const holders = await oneGrant.revokeAccessTokens(trx, one, now)
    announceRevoked(trx, [...new Set(holders.rows.map((row) => row.user_id))])
    await oneGrant.revokeRefreshTokens(trx, one, now)
    return Number(grants.numAffectedRows)
  }
  const grants = await trx.updateTable('grants').set({ revoked_at: now }).where('id', 'in', ids).where('revoked_at', 'is', null).executeTakeFirst()
  const holders = await trx
    .updateTable('access_tokens')
    .set({ revoked_at: now })
    .where('grant_id', 'in', ids)
    .where('revoked_at', 'is', null)
    .returning('user_id')
    .execute()
  announceRevoked(trx, [...new Set(holders.map((row) => row.user_id))])
  await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('grant_id', 'in', ids).where('revoked_at', 'is', null).execute()
  return Number(grants.numUpdatedRows)
}

/**
 * Holds the grant's row until the caller's transaction ends, if it is still
 * live: a revocation running at the same time either waits for the caller
 * (and then sees what it wrote) or went first (and the grant reads revoked).
 */
export async function holdLiveGrant(trx: Transaction<Database>, id: string): Promise<boolean> {
  const rows = await trx
    .updateTable('grants')
    .set((eb) => ({ revoked_at: eb.ref('revoked_at') }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute()
  return rows.length === 1
}

/** Deletes up to `limit` grants that no longer have a token left. */
export async function deleteEmptyGrants(db: Executor, createdBefore: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('grants')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('grants')
        .select('id')
        .where('created_at', '<=', createdBefore)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('access_tokens').select('jti').whereRef('access_tokens.grant_id', '=', 'grants.id'))))
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('refresh_tokens').select('token_hash').whereRef('refresh_tokens.grant_id', '=', 'grants.id'))),
        )
        .limit(limit),
    )
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

const accessTokenHolderQuery = compiledOnce((db, jti: string) =>
  db
    .selectFrom('access_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .leftJoin('memberships as m', (join) => join.onRef('m.user_id', '=', 't.user_id').onRef('m.team_id', '=', 't.team_id'))
    .selectAll('t')
    .select([...JOINED_USER_COLUMNS, 'm.role'])
    .where('t.jti', '=', jti),
)

/**
 * The hot path of every API call: the token's row, its user and whether
 * the user still belongs to the token's team, in one query.
 */
export async function findAccessTokenHolder(
  db: Kysely<Database>,
  jti: string,
): Promise<{ token: AccessTokenRecord; user: User; isMember: boolean } | undefined> {
  const row = (await accessTokenHolderQuery(db, jti)).rows[0]
  return row && { token: ACCESS_TOKENS.read(row), user: joinedUser(row), isMember: row.role !== null }
}

const refreshTokenForRotationQuery = compiledOnce((db, tokenHash: string) =>
  db
    .selectFrom('refresh_tokens as r')
    .innerJoin('grants as g', 'g.id', 'r.grant_id')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .leftJoin('memberships as m', (join) => join.onRef('m.user_id', '=', 'g.user_id').onRef('m.team_id', '=', 'g.team_id'))
    .selectAll('r')
    .select([...GRANTS.selectAs('g', 'g_'), 'g.user_id', ...JOINED_USER_COLUMNS, 'm.role'])
    .where('r.token_hash', '=', tokenHash),
)

/** A refresh token with its grant, its user and the user's standing, in one query: the token endpoint's refresh path. */
export async function findRefreshTokenForRotation(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<{ refresh: RefreshTokenRecord; grant: Grant; user: User; standing: HolderStanding } | undefined> {
  const row = (await refreshTokenForRotationQuery(db, tokenHash)).rows[0]
  if (!row) return undefined
  const grant = toGrant(GRANTS.readPrefixed('g_', row))
  const user = joinedUser(row)
  return { refresh: REFRESH_TOKENS.read(row), grant, user, standing: { userDisabled: user.isDisabled, isMember: row.role !== null } }
}
