import type { Selectable } from 'kysely'
import type { Executor } from './executor.js'
import type { UserFactorTable } from './schema.js'

/** A second factor as the pages show it: never its secret. */
export interface FactorRow {
  id: string
  userId: number
  kind: 'totp' | 'passkey'
  name: string
  confirmedAt: number | null
  createdAt: number
  lastUsedAt: number | null
}

function toFactor(row: Pick<Selectable<UserFactorTable>, 'id' | 'user_id' | 'kind' | 'name' | 'confirmed_at' | 'created_at' | 'last_used_at'>): FactorRow {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    name: row.name,
    confirmedAt: row.confirmed_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  }
}

const FACTOR_COLUMNS = ['id', 'user_id', 'kind', 'name', 'confirmed_at', 'created_at', 'last_used_at'] as const

export async function insertTotpFactor(
  db: Executor,
  factor: { id: string; userId: number; name: string; secretEncrypted: string; now: number },
): Promise<void> {
  await db
    .insertInto('user_factors')
    .values({
      id: factor.id,
      user_id: factor.userId,
      kind: 'totp',
      name: factor.name,
      secret_encrypted: factor.secretEncrypted,
      last_used_step: null,
      credential_id: null,
      public_key: null,
      sign_count: null,
      transports: null,
      confirmed_at: null,
      created_at: factor.now,
      last_used_at: null,
    })
    .execute()
}

/** The user's factors, confirmed ones only unless `withPending`, oldest first. */
export async function listFactorsOfUser(db: Executor, userId: number, withPending = false): Promise<FactorRow[]> {
  let query = db.selectFrom('user_factors').select(FACTOR_COLUMNS).where('user_id', '=', userId)
  if (!withPending) query = query.where('confirmed_at', 'is not', null)
  const rows = await query.orderBy('created_at').orderBy('id').execute()
  return rows.map(toFactor)
}

export async function countConfirmedFactors(db: Executor, userId: number): Promise<number> {
  const row = await db
    .selectFrom('user_factors')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is not', null)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** The users among `userIds` who have a confirmed factor. */
export async function usersWithFactors(db: Executor, userIds: number[]): Promise<Set<number>> {
  if (userIds.length === 0) return new Set()
  const rows = await db.selectFrom('user_factors').select('user_id').distinct().where('user_id', 'in', userIds).where('confirmed_at', 'is not', null).execute()
  return new Set(rows.map((r) => r.user_id))
}

export interface TotpSecretRow {
  id: string
  secretEncrypted: string
  lastUsedStep: number | null
  confirmed: boolean
}

/** The authenticator apps of the user with their sealed secrets; pending ones too when `withPending`. */
export async function listTotpSecrets(db: Executor, userId: number, withPending: boolean): Promise<TotpSecretRow[]> {
  let query = db
    .selectFrom('user_factors')
    .select(['id', 'secret_encrypted', 'last_used_step', 'confirmed_at'])
    .where('user_id', '=', userId)
    .where('kind', '=', 'totp')
  if (!withPending) query = query.where('confirmed_at', 'is not', null)
  const rows = await query.execute()
  return rows.map((r) => ({
    id: r.id,
    secretEncrypted: r.secret_encrypted ?? '',
    lastUsedStep: r.last_used_step === null ? null : Number(r.last_used_step),
    confirmed: r.confirmed_at !== null,
  }))
}

/**
 * Records that the code of time step `step` was used, unless that step or a
 * later one already was: one statement, so of two requests with the same
 * code only one succeeds (RFC 6238 §5.2: a code is accepted once).
 */
export async function useTotpStep(db: Executor, factorId: string, step: number, now: number, confirm: boolean): Promise<boolean> {
  const result = await db
    .updateTable('user_factors')
    .set(confirm ? { last_used_step: step, last_used_at: now, confirmed_at: now } : { last_used_step: step, last_used_at: now })
    .where('id', '=', factorId)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Removes one factor of the user; false when the user has none with that id. */
export async function deleteFactorOfUser(db: Executor, userId: number, factorId: string): Promise<FactorRow | undefined> {
  const row = await db.deleteFrom('user_factors').where('user_id', '=', userId).where('id', '=', factorId).returning(FACTOR_COLUMNS).executeTakeFirst()
  return row && toFactor(row)
}

/** Removes the enrolments of the user that never got their first code. */
export async function deletePendingFactors(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('user_factors').where('user_id', '=', userId).where('confirmed_at', 'is', null).execute()
}

/** Removes every factor and recovery code of the user; how many factors there were. */
export async function deleteAllFactors(db: Executor, userId: number): Promise<number> {
  const rows = await db.deleteFrom('user_factors').where('user_id', '=', userId).where('confirmed_at', 'is not', null).returning('id').execute()
  await db.deleteFrom('user_factors').where('user_id', '=', userId).execute()
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
  return rows.length
}

/** Replaces the user's recovery codes: the old set stops working. */
export async function replaceRecoveryCodes(db: Executor, userId: number, codeHashes: string[], now: number): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
  await db
    .insertInto('recovery_codes')
    .values(codeHashes.map((codeHash) => ({ code_hash: codeHash, user_id: userId, created_at: now, used_at: null })))
    .execute()
}

/** Uses the recovery code, once: of two requests with it only one succeeds. */
export async function useRecoveryCode(db: Executor, userId: number, codeHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function countUnusedRecoveryCodes(db: Executor, userId: number): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
