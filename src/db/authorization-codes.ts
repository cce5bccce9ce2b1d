import type { Kysely } from 'kysely'
import type { User } from '../accounts/types.js'
import { compiledOnce } from './compiled.js'
import type { Executor } from './executor.js'
import type { Database } from './schema.js'
import { JOINED_USER_COLUMNS, joinedUser } from './users.js'
import type { AuthorizationCode } from '../tokens/types.js'
import { NO_OPENID_LOGIN, type HolderStanding, type HoldingsOf, type OpenIdLogin } from '../tokens/types.js'

/** `login` only for OpenID Connect requests; without `resources`, the code's tokens are for the client itself. */
export async function insertAuthorizationCode(
  db: Executor,
  code: Omit<AuthorizationCode, 'consumedAt' | 'login' | 'resources'> & { login?: OpenIdLogin; resources?: string },
): Promise<void> {
  const login = code.login ?? NO_OPENID_LOGIN
  await db
    .insertInto('authorization_codes')
    .values({
      code_hash: code.codeHash,
      client_id: code.clientId,
      user_id: code.userId,
      team_id: code.teamId,
      redirect_uri: code.redirectUri,
      scopes: code.scopes,
      code_challenge: code.codeChallenge,
      resources: code.resources ?? '',
      grant_id: code.grantId,
      created_at: code.createdAt,
      expires_at: code.expiresAt,
      consumed_at: null,
      nonce: login.nonce,
      sid: login.sid,
      auth_time: login.authTime,
      amr: login.amr,
    })
    .execute()
}

/** Removes codes not yet redeemed, so none can turn into tokens after a revocation. */
export async function deletePendingAuthorizationCodes(db: Executor, of: HoldingsOf): Promise<void> {
  const f: { clientId?: string; userId?: number; teamId?: number } = of
  let query = db.deleteFrom('authorization_codes').where('consumed_at', 'is', null)
  if (f.clientId !== undefined) query = query.where('client_id', '=', f.clientId)
  if (f.userId !== undefined) query = query.where('user_id', '=', f.userId)
  if (f.teamId !== undefined) query = query.where('team_id', '=', f.teamId)
  await query.execute()
}

const codeForExchangeQuery = compiledOnce((db, codeHash: string) =>
  db
    .selectFrom('authorization_codes as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .leftJoin('memberships as m', (join) => join.onRef('m.user_id', '=', 'c.user_id').onRef('m.team_id', '=', 'c.team_id'))
    .selectAll('c')
    .select([...JOINED_USER_COLUMNS, 'm.role'])
    .where('c.code_hash', '=', codeHash),
)

/** A code with its user and the user's standing, in one query: the token endpoint's code path. */
export async function findAuthorizationCodeForExchange(
  db: Kysely<Database>,
  codeHash: string,
): Promise<{ code: AuthorizationCode; user: User; standing: HolderStanding } | undefined> {
  const row = (await codeForExchangeQuery(db, codeHash)).rows[0]
  if (!row) return undefined
  const user = joinedUser(row)
  return {
    user,
    code: {
      codeHash: row.code_hash,
      clientId: row.client_id,
      userId: row.user_id,
      teamId: row.team_id,
      redirectUri: row.redirect_uri,
      scopes: row.scopes,
      codeChallenge: row.code_challenge,
      resources: row.resources,
      grantId: row.grant_id,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      consumedAt: row.consumed_at,
      login: { nonce: row.nonce, sid: row.sid, authTime: row.auth_time, amr: row.amr },
    },
    standing: { userDisabled: user.isDisabled, isMember: row.role !== null },
  }
}
