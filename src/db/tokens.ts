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
import { compiledOnce } from './compiled.js'
import type { Executor } from './executor.js'
import type { AccessTokenTable, Database, GrantTable, RefreshTokenTable } from './schema.js'
import { JOINED_USER_COLUMNS, joinedUser } from './users.js'

function toGrant(row: Selectable<GrantTable>): Grant {
  return {
    id: row.id,
    clientId: row.client_id,
    userId: row.user_id,
    teamId: row.team_id,
    scopes: row.scopes,
    resources: row.resources,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    login: { nonce: row.nonce, sid: row.sid, authTime: row.auth_time },
  }
}

function toAccessToken(row: Selectable<AccessTokenTable>): AccessTokenRecord {
  return {
    jti: row.jti,
    grantId: row.grant_id,
    clientId: row.client_id,
    userId: row.user_id,
    teamId: row.team_id,
    scopes: row.scopes,
    resources: row.resources,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  }
}

function toRefreshToken(row: Selectable<RefreshTokenTable>): RefreshTokenRecord {
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    accessTokenJti: row.access_token_jti,
    clientId: row.client_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
    revokedAt: row.revoked_at,
  }
}

export type NewGrant = Omit<Grant, 'revokedAt' | 'login' | 'resources'> & { login?: OpenIdLogin; resources?: string }
export type NewAccessToken = Omit<AccessTokenRecord, 'revokedAt' | 'resources'> & { resources?: string }
export type NewRefreshToken = Omit<RefreshTokenRecord, 'consumedAt' | 'revokedAt'>

const insertGrantStatement = compiledOnce(
  (
    db,
    id: string,
    clientId: string,
    userId: number,
    teamId: number,
    scopes: string,
    resources: string,
    createdAt: number,
    nonce: string | null,
    sid: string | null,
    authTime: number | null,
  ) =>
    db.insertInto('grants').values({
      id,
      client_id: clientId,
      user_id: userId,
      team_id: teamId,
      scopes,
      resources,
      created_at: createdAt,
      nonce,
      sid,
      auth_time: authTime,
    }),
)

/** `login` only for OpenID Connect grants; without `resources`, the grant's tokens are for the client itself. */
export async function insertGrant(db: Executor, grant: NewGrant): Promise<void> {
  const login = grant.login ?? NO_OPENID_LOGIN
  await insertGrantStatement(
    db,
    grant.id,
    grant.clientId,
    grant.userId,
    grant.teamId,
    grant.scopes,
    grant.resources ?? '',
    grant.createdAt,
    login.nonce,
    login.sid,
    login.authTime,
  )
}

export async function findGrant(db: Executor, id: string): Promise<Grant | undefined> {
  const row = await db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toGrant(row)
}

const insertAccessTokenStatement = compiledOnce(
  (
    db,
    jti: string,
    grantId: string,
    clientId: string,
    userId: number,
    teamId: number,
    scopes: string,
    resources: string,
    createdAt: number,
    expiresAt: number,
  ) =>
    db.insertInto('access_tokens').values({
      jti,
      grant_id: grantId,
      client_id: clientId,
      user_id: userId,
      team_id: teamId,
      scopes,
      resources,
      created_at: createdAt,
      expires_at: expiresAt,
    }),
)

export async function insertAccessToken(db: Executor, token: NewAccessToken): Promise<void> {
  await insertAccessTokenStatement(
    db,
    token.jti,
    token.grantId,
    token.clientId,
    token.userId,
    token.teamId,
    token.scopes,
    token.resources ?? '',
    token.createdAt,
    token.expiresAt,
  )
}

export async function findAccessToken(db: Executor, jti: string): Promise<AccessTokenRecord | undefined> {
  const row = await db.selectFrom('access_tokens').selectAll().where('jti', '=', jti).executeTakeFirst()
  return row && toAccessToken(row)
}

const insertRefreshTokenStatement = compiledOnce(
  (db, tokenHash: string, grantId: string, accessTokenJti: string, clientId: string, createdAt: number, expiresAt: number) =>
    db.insertInto('refresh_tokens').values({
      token_hash: tokenHash,
      grant_id: grantId,
      access_token_jti: accessTokenJti,
      client_id: clientId,
      created_at: createdAt,
      expires_at: expiresAt,
    }),
)

export async function insertRefreshToken(db: Executor, token: NewRefreshToken): Promise<void> {
  await insertRefreshTokenStatement(db, token.tokenHash, token.grantId, token.accessTokenJti, token.clientId, token.createdAt, token.expiresAt)
}

export async function findRefreshToken(db: Executor, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const row = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
  return row && toRefreshToken(row)
}

const revokeAccessTokenStatement = compiledOnce((db, jti: string, now: number) =>
  db.updateTable('access_tokens').set({ revoked_at: now }).where('jti', '=', jti).where('revoked_at', 'is', null),
)

export async function revokeAccessToken(db: Executor, jti: string, now: number): Promise<void> {
  await revokeAccessTokenStatement(db, jti, now)
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
 * Ends grants and every token descending from them; returns how many grants
 * it ended. Several statements, so it takes a transaction: a family is
 * revoked whole or not at all.
 */
export async function revokeGrants(trx: Transaction<Database>, which: GrantSelection, now: number): Promise<number> {
  const grants = await trx
    .updateTable('grants')
    .set({ revoked_at: now })
    .where('id', 'in', grantIdsOf(trx, which))
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  await trx.updateTable('access_tokens').set({ revoked_at: now }).where('grant_id', 'in', grantIdsOf(trx, which)).where('revoked_at', 'is', null).execute()
  await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('grant_id', 'in', grantIdsOf(trx, which)).where('revoked_at', 'is', null).execute()
  return Number(grants.numUpdatedRows)
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
  return row && { token: toAccessToken(row), user: joinedUser(row), isMember: row.role !== null }
}

const refreshTokenForRotationQuery = compiledOnce((db, tokenHash: string) =>
  db
    .selectFrom('refresh_tokens as r')
    .innerJoin('grants as g', 'g.id', 'r.grant_id')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .leftJoin('memberships as m', (join) => join.onRef('m.user_id', '=', 'g.user_id').onRef('m.team_id', '=', 'g.team_id'))
    .selectAll('r')
    .select([
      'g.client_id as grant_client_id',
      'g.user_id',
      'g.team_id',
      'g.scopes',
      'g.resources',
      'g.created_at as grant_created_at',
      'g.revoked_at as grant_revoked_at',
      'g.nonce',
      'g.sid',
      'g.auth_time',
      ...JOINED_USER_COLUMNS,
      'm.role',
    ])
    .where('r.token_hash', '=', tokenHash),
)

/** A refresh token with its grant, its user and the user's standing, in one query: the token endpoint's refresh path. */
export async function findRefreshTokenForRotation(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<{ refresh: RefreshTokenRecord; grant: Grant; user: User; standing: HolderStanding } | undefined> {
  const row = (await refreshTokenForRotationQuery(db, tokenHash)).rows[0]
  if (!row) return undefined
  const grant = toGrant({
    id: row.grant_id,
    client_id: row.grant_client_id,
    user_id: row.user_id,
    team_id: row.team_id,
    scopes: row.scopes,
    resources: row.resources,
    created_at: row.grant_created_at,
    revoked_at: row.grant_revoked_at,
    nonce: row.nonce,
    sid: row.sid,
    auth_time: row.auth_time,
  })
  const user = joinedUser(row)
  return { refresh: toRefreshToken(row), grant, user, standing: { userDisabled: user.isDisabled, isMember: row.role !== null } }
}
