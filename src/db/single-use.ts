import type { Kysely } from 'kysely'
import { compiledOnce } from './compiled.js'
import type { Executor } from './executor.js'

/**
 * The secrets that work once (codes, device codes, refresh tokens, consent forms), each
 * keyed by the hash of its value, and whether a revocation also ends it:
 * the one description of "not yet used" for the Kysely statements below and
 * the hand-written PostgreSQL issuance (issuance.ts).
 */
const SINGLE_USE = {
  authorization_code: { table: 'authorization_codes', key: 'code_hash', revocable: false },
  refresh_token: { table: 'refresh_tokens', key: 'token_hash', revocable: true },
  authorization_request: { table: 'authorization_requests', key: 'id_hash', revocable: false },
  device_code: { table: 'device_authorizations', key: 'device_code_hash', revocable: false },
} as const

export type SingleUseKind = keyof typeof SINGLE_USE

function consumeStatement(kind: SingleUseKind) {
  const { table, key, revocable } = SINGLE_USE[kind]
  return compiledOnce((db, hash: string, now: number) => {
    // Kysely cannot follow a table picked at run time; the map above names only real columns.
    const loose = db as unknown as Kysely<Record<string, Record<string, unknown>>>
    const unused = loose.updateTable(table).set({ consumed_at: now }).where(key, '=', hash).where('consumed_at', 'is', null)
    return revocable ? unused.where('revoked_at', 'is', null) : unused
  })
}

const CONSUME = {
  authorization_code: consumeStatement('authorization_code'),
  refresh_token: consumeStatement('refresh_token'),
  authorization_request: consumeStatement('authorization_request'),
  device_code: consumeStatement('device_code'),
}

/**
 * Marks a secret used: one conditional UPDATE, true for exactly one caller
 * however many race, false once it was used or revoked (RFC 6749 §4.1.2 and
 * §6; oidc-provider's adapters call this `consume`). On PostgreSQL the token
 * endpoint does not call it for codes or refresh tokens: their UPDATE runs
 * inside the issuance statement (`consumedSql`).
 */
export async function consume(db: Executor, kind: SingleUseKind, hash: string, now: number): Promise<boolean> {
  const result = await CONSUME[kind](db, hash, now)
  return Number(result.numAffectedRows) === 1
}

/** The same UPDATE written for PostgreSQL by hand, with named parameters `$now` and `$hash`, returning the row it took. */
export function consumedSql(kind: SingleUseKind): string {
  const { table, key, revocable } = SINGLE_USE[kind]
  const unrevoked = revocable ? ' and revoked_at is null' : ''
  return `update ${table} set consumed_at = $now::bigint where ${key} = $hash::text and consumed_at is null${unrevoked} returning ${key}`
}
