import type { Executor } from './executor.js'

/** The secrets that work once, each keyed by the hash of its value. */
const SINGLE_USE = {
  authorization_code: { table: 'authorization_codes', key: 'code_hash' },
  refresh_token: { table: 'refresh_tokens', key: 'token_hash' },
} as const

export type SingleUseKind = keyof typeof SINGLE_USE

/**
 * Marks a code or refresh token used: one conditional UPDATE, true for
 * exactly one caller however many race, false once it was used or revoked
 * (RFC 6749 §4.1.2 and §6; oidc-provider's adapters call this `consume`).
 */
export async function consume(db: Executor, kind: SingleUseKind, hash: string, now: number): Promise<boolean> {
  const { table, key } = SINGLE_USE[kind]
  let update = db.updateTable(table).set({ consumed_at: now }).where(key, '=', hash).where('consumed_at', 'is', null)
  if (table === 'refresh_tokens') update = update.where('revoked_at', 'is', null)
  const result = await update.executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
