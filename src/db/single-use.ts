import { compiledOnce } from './compiled.js'
import type { Executor } from './executor.js'

/** The secrets that work once (codes, refresh tokens, consent forms), each keyed by the hash of its value. */
const CONSUME = {
  authorization_code: compiledOnce((db, hash: string, now: number) =>
    db.updateTable('authorization_codes').set({ consumed_at: now }).where('code_hash', '=', hash).where('consumed_at', 'is', null),
  ),
  refresh_token: compiledOnce((db, hash: string, now: number) =>
    db.updateTable('refresh_tokens').set({ consumed_at: now }).where('token_hash', '=', hash).where('consumed_at', 'is', null).where('revoked_at', 'is', null),
  ),
  authorization_request: compiledOnce((db, hash: string, now: number) =>
    db.updateTable('authorization_requests').set({ consumed_at: now }).where('id_hash', '=', hash).where('consumed_at', 'is', null),
  ),
}

export type SingleUseKind = keyof typeof CONSUME

/**
 * Marks a code or refresh token used: one conditional UPDATE, true for
 * exactly one caller however many race, false once it was used or revoked
 * (RFC 6749 §4.1.2 and §6; oidc-provider's adapters call this `consume`).
 */
export async function consume(db: Executor, kind: SingleUseKind, hash: string, now: number): Promise<boolean> {
  const result = await CONSUME[kind](db, hash, now)
  return Number(result.numAffectedRows) === 1
}
