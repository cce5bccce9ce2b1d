import { CompiledQuery } from 'kysely'
import type { Db } from './connection.js'
import type { Executor } from './executor.js'
import { markPrepared } from './prepared.js'
import { consume } from './single-use.js'
import { insertAccessToken, insertGrant, insertRefreshToken, revokeAccessToken, type NewAccessToken, type NewGrant, type NewRefreshToken } from './tokens.js'
import { NO_OPENID_LOGIN } from '../tokens/types.js'

/** The rows that make a freshly signed access token and its refresh token valid. */
export interface NewTokens {
  access: NewAccessToken
  refresh: NewRefreshToken
}

export async function insertTokens(db: Executor, tokens: NewTokens): Promise<void> {
  await insertAccessToken(db, tokens.access)
  await insertRefreshToken(db, tokens.refresh)
}

/*
 * On PostgreSQL each issuance is one statement: the single-use UPDATE and
 * the writes that depend on it, in data-modifying CTEs. One statement is one
 * transaction, all or nothing, in one round trip instead of six (begin,
 * four statements, commit). The inserts run only when the UPDATE took the
 * secret, so a replay or a race writes nothing and reads 0.
 */

const ACCESS_TOKEN = `
  access as (
    insert into access_tokens (jti, grant_id, client_id, user_id, team_id, scopes, resources, created_at, expires_at)
    select $a1::text, $a2::text, $a3::text, $a4::bigint, $a5::bigint, $a6::text, $a7::text, $a8::bigint, $a9::bigint
    where exists (select from consumed)
  ),
  refresh as (
    insert into refresh_tokens (token_hash, grant_id, access_token_jti, client_id, created_at, expires_at)
    select $r1::text, $r2::text, $r3::text, $r4::text, $r5::bigint, $r6::bigint
    where exists (select from consumed)
  )
  select count(*)::int as consumed from consumed`

function tokenParameters(tokens: NewTokens): Record<string, unknown> {
  const { access, refresh } = tokens
  return {
    a1: access.jti,
    a2: access.grantId,
    a3: access.clientId,
    a4: access.userId,
    a5: access.teamId,
    a6: access.scopes,
    a7: access.resources ?? '',
    a8: access.createdAt,
    a9: access.expiresAt,
    r1: refresh.tokenHash,
    r2: refresh.grantId,
    r3: refresh.accessTokenJti,
    r4: refresh.clientId,
    r5: refresh.createdAt,
    r6: refresh.expiresAt,
  }
}

/** Named placeholders, numbered once: the SQL stays readable and its text fixed, so it is prepared once. */
function numbered(text: string): { sql: string; names: string[] } {
  const names: string[] = []
  const sql = text.replace(/\$([a-z][a-z0-9]*)/g, (_, name: string) => {
    if (!names.includes(name)) names.push(name)
    return `$${names.indexOf(name) + 1}`
  })
  markPrepared(sql)
  return { sql, names }
}

function run(db: Db, statement: { sql: string; names: string[] }, values: Record<string, unknown>): Promise<boolean> {
  const parameters = statement.names.map((name) => values[name])
  return db.kysely.executeQuery<{ consumed: number }>(CompiledQuery.raw(statement.sql, parameters)).then((result) => result.rows[0]?.consumed === 1)
}

const ROTATE = numbered(`
  with consumed as (
    update refresh_tokens set consumed_at = $now::bigint
    where token_hash = $hash::text and consumed_at is null and revoked_at is null
    returning token_hash
  ),
  replaced as (
    update access_tokens set revoked_at = $now::bigint
    where jti = $replaced::text and revoked_at is null and exists (select from consumed)
  ),
  ${ACCESS_TOKEN}`)

const REDEEM = numbered(`
  with consumed as (
    update authorization_codes set consumed_at = $now::bigint
    where code_hash = $hash::text and consumed_at is null
    returning code_hash
  ),
  granted as (
    insert into grants (id, client_id, user_id, team_id, scopes, resources, created_at, nonce, sid, auth_time)
    select $g1::text, $g2::text, $g3::bigint, $g4::bigint, $g5::text, $g6::text, $g7::bigint, $g8::text, $g9::text, $g10::bigint
    where exists (select from consumed)
  ),
  ${ACCESS_TOKEN}`)

/**
 * RFC 6749 §6 with rotation: uses the refresh token once, ends the access
 * token issued with it and makes the new pair valid, all or nothing. False
 * when the refresh token was already used or revoked: nothing is written.
 */
export async function rotateRefreshToken(db: Db, used: { tokenHash: string; accessTokenJti: string }, tokens: NewTokens, now: number): Promise<boolean> {
  if (db.dialect === 'postgres') return run(db, ROTATE, { now, hash: used.tokenHash, replaced: used.accessTokenJti, ...tokenParameters(tokens) })
  return db.kysely.transaction().execute(async (trx) => {
    if (!(await consume(trx, 'refresh_token', used.tokenHash, now))) return false
    await revokeAccessToken(trx, used.accessTokenJti, now)
    await insertTokens(trx, tokens)
    return true
  })
}

/**
 * RFC 6749 §4.1.2: redeems the code once, and writes the grant it becomes
 * with the first tokens, all or nothing. False when the code was already
 * used: nothing is written.
 */
export async function redeemAuthorizationCode(db: Db, codeHash: string, grant: NewGrant, tokens: NewTokens, now: number): Promise<boolean> {
  if (db.dialect === 'postgres') {
    const login = grant.login ?? NO_OPENID_LOGIN
    return run(db, REDEEM, {
      now,
      hash: codeHash,
      g1: grant.id,
      g2: grant.clientId,
      g3: grant.userId,
      g4: grant.teamId,
      g5: grant.scopes,
      g6: grant.resources ?? '',
      g7: grant.createdAt,
      g8: login.nonce,
      g9: login.sid,
      g10: login.authTime,
      ...tokenParameters(tokens),
    })
  }
  return db.kysely.transaction().execute(async (trx) => {
    if (!(await consume(trx, 'authorization_code', codeHash, now))) return false
    await insertGrant(trx, grant)
    await insertTokens(trx, tokens)
    return true
  })
}
