import type { Executor } from './executor.js'

export interface SigningKeyRow {
  kid: string
  algorithm: string
  publicJwk: string
  privateKeyEncrypted: string
  createdAt: number
  retiredAt: number | null
}

/** Keys that sign now or whose tokens may still be alive: retired after `retiredAfter`, or not at all. */
export async function listLiveSigningKeys(db: Executor, retiredAfter: number): Promise<SigningKeyRow[]> {
  const rows = await db
    .selectFrom('signing_keys')
    .selectAll()
    .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', retiredAfter)]))
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute()
  return rows.map((r) => ({
    kid: r.kid,
    algorithm: r.algorithm,
    publicJwk: r.public_jwk,
    privateKeyEncrypted: r.private_key_encrypted,
    createdAt: r.created_at,
    retiredAt: r.retired_at,
  }))
}

export async function insertSigningKey(db: Executor, key: Omit<SigningKeyRow, 'retiredAt'>): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      algorithm: key.algorithm,
      public_jwk: key.publicJwk,
      private_key_encrypted: key.privateKeyEncrypted,
      created_at: key.createdAt,
      retired_at: null,
    })
    .execute()
}

export async function retireSigningKeysExcept(db: Executor, kids: string[], now: number): Promise<void> {
  await db.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).where('kid', 'not in', kids).execute()
}

export async function deleteSigningKeysRetiredBefore(db: Executor, before: number): Promise<number> {
  const result = await db.deleteFrom('signing_keys').where('retired_at', '<=', before).executeTakeFirst()
  return Number(result.numDeletedRows)
}
