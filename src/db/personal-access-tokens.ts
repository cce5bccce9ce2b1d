import type { Selectable } from 'kysely'
import type { Executor } from './executor.js'
import { announceRevoked } from './revocations.js'
import type { PersonalAccessTokenTable } from './schema.js'
import type { User } from '../accounts/types.js'
import { JOINED_USER_COLUMNS, joinedUser } from './users.js'

export interface PersonalAccessToken {
  id: string
  userId: number
  teamId: number
  name: string
  createdAt: Date
  expiresAt: Date
  lastUsedAt: Date | null
}

function toToken(row: Selectable<PersonalAccessTokenTable>): PersonalAccessToken {
  return {
    id: row.id,
    userId: row.user_id,
    teamId: row.team_id,
    name: row.name,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  }
}

export async function insertPersonalAccessToken(
  db: Executor,
  token: { id: string; userId: number; teamId: number; name: string; tokenHash: string; createdAt: number; expiresAt: number },
): Promise<PersonalAccessToken> {
  const row = await db
    .insertInto('personal_access_tokens')
    .values({
      id: token.id,
      user_id: token.userId,
      team_id: token.teamId,
      name: token.name,
      token_hash: token.tokenHash,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      last_used_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toToken(row)
}

export async function listPersonalAccessTokens(db: Executor, userId: number, teamId: number): Promise<PersonalAccessToken[]> {
  const rows = await db
    .selectFrom('personal_access_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('team_id', '=', teamId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute()
  return rows.map(toToken)
}

export async function deletePersonalAccessToken(db: Executor, id: string, userId: number): Promise<PersonalAccessToken | undefined> {
  const row = await db.deleteFrom('personal_access_tokens').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst()
  if (row) announceRevoked(db, [userId])
  return row && toToken(row)
}

/** Deletes every personal access token of the user, or those for one team; returns how many. */
export async function deletePersonalAccessTokensOf(db: Executor, userId: number, teamId: number | undefined): Promise<number> {
  let query = db.deleteFrom('personal_access_tokens').where('user_id', '=', userId)
  if (teamId !== undefined) query = query.where('team_id', '=', teamId)
  const result = await query.executeTakeFirst()
  announceRevoked(db, [userId])
  return Number(result.numDeletedRows)
}

/** A personal access token with its user and whether the user is still in the token's team, in one query. */
export async function findPersonalAccessTokenHolder(
  db: Executor,
  tokenHash: string,
): Promise<{ token: PersonalAccessToken; user: User; isMember: boolean } | undefined> {
  const row = await db
    .selectFrom('personal_access_tokens as p')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .leftJoin('memberships as m', (join) => join.onRef('m.user_id', '=', 'p.user_id').onRef('m.team_id', '=', 'p.team_id'))
    .selectAll('p')
    .select([...JOINED_USER_COLUMNS, 'm.role'])
    .where('p.token_hash', '=', tokenHash)
    .executeTakeFirst()
  return row && { token: toToken(row), user: joinedUser(row), isMember: row.role !== null }
}
