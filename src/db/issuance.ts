import { CompiledQuery } from 'kysely'
import type { Db } from './connection.js'
import type { Executor } from './executor.js'
import { markPrepared } from './prepared.js'
import { announceRevoked } from './revocations.js'
import { consume, consumedSql } from './single-use.js'
import {
  ACCESS_TOKENS,
  accessTokenRow,
  GRANTS,
  grantRow,
  insertAccessToken,
  insertGrant,
  insertRefreshToken,
  REFRESH_TOKENS,
  refreshTokenRow,
  revokeAccessToken,
  type NewAccessToken,
  type NewGrant,
  type NewRefreshToken,
} from './tokens.js'

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
    ${ACCESS_TOKENS.insertSelect('a')}
    where exists (select from consumed)
  ),
  refresh as (
    ${REFRESH_TOKENS.insertSelect('r')}
    where exists (select from consumed)
  )
  select count(*)::int as consumed from consumed`

function tokenParameters(tokens: NewTokens): Record<string, unknown> {
  return { ...ACCESS_TOKENS.parameters('a', accessTokenRow(tokens.access)), ...REFRESH_TOKENS.parameters('r', refreshTokenRow(tokens.refresh)) }
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
  with consumed as (${consumedSql('refresh_token')}),
  replaced as (
    update access_tokens set revoked_at = $now::bigint
    where jti = $replaced::text and revoked_at is null and exists (select from consumed)
  ),
  ${ACCESS_TOKEN}`)

function redeemStatement(kind: RedeemedKind) {
  return numbered(`
  with consumed as (${consumedSql(kind)}),
  granted as (
    ${GRANTS.insertSelect('g')}
    where exists (select from consumed)
  ),
  ${ACCESS_TOKEN}`)
}

/** The secrets that become a grant when redeemed: an authorization code, or an approved device code (RFC 8628 §3.4). */
export type RedeemedKind = 'authorization_code' | 'device_code'

const REDEEM = { authorization_code: redeemStatement('authorization_code'), device_code: redeemStatement('device_code') }

/**
 * RFC 6749 §6 with rotation: uses the refresh token once, ends the access
 * token issued with it and makes the new pair valid, all or nothing. False
 * when the refresh token was already used or revoked: nothing is written.
 */
export async function rotateRefreshToken(db: Db, used: { tokenHash: string; accessTokenJti: string }, tokens: NewTokens, now: number): Promise<boolean> {
  if (db.dialect === 'postgres') {
    const rotated = await run(db, ROTATE, { now, hash: used.tokenHash, replaced: used.accessTokenJti, ...tokenParameters(tokens) })
    // The replaced access token ended with the statement.
    if (rotated) announceRevoked(db.kysely, [tokens.access.userId])
    return rotated
  }
  return db.kysely.transaction().execute(async (trx) => {
    if (!(await consume(trx, 'refresh_token', used.tokenHash, now))) return false
    await revokeAccessToken(trx, used.accessTokenJti, now)
    await insertTokens(trx, tokens)
    return true
  })
}

/**
 * RFC 6749 §4.1.2, RFC 8628 §3.5: redeems the code once, and writes the
 * grant it becomes with the first tokens, all or nothing. False when the
 * code was already used: nothing is written.
 */
export async function redeemCode(db: Db, kind: RedeemedKind, codeHash: string, grant: NewGrant, tokens: NewTokens, now: number): Promise<boolean> {
  if (db.dialect === 'postgres') {
    return run(db, REDEEM[kind], { now, hash: codeHash, ...GRANTS.parameters('g', grantRow(grant)), ...tokenParameters(tokens) })
  }
  return db.kysely.transaction().execute(async (trx) => {
    if (!(await consume(trx, kind, codeHash, now))) return false
    await insertGrant(trx, grant)
    await insertTokens(trx, tokens)
    return true
  })
}
