import type { Executor } from './executor.js'

export interface StoredIdempotentRequest {
  requestHash: string
  /** Null while the first request is still being answered. */
  status: number | null
  responseSealed: string | null
}

/**
 * Claims the key for this request; false when the token used the key before
 * (read it with findIdempotentRequest). An expired claim is dropped first.
 */
export async function claimIdempotencyKey(
  db: Executor,
  claim: { adminTokenId: string; key: string; requestHash: string; now: number; expiresAt: number },
): Promise<boolean> {
  await db
    .deleteFrom('admin_idempotency_keys')
    .where('admin_token_id', '=', claim.adminTokenId)
    .where('key', '=', claim.key)
    .where('expires_at', '<=', claim.now)
    .execute()
  const inserted = await db
    .insertInto('admin_idempotency_keys')
    .values({
      admin_token_id: claim.adminTokenId,
      key: claim.key,
      request_hash: claim.requestHash,
      status: null,
      response_sealed: null,
      created_at: claim.now,
      expires_at: claim.expiresAt,
    })
    .onConflict((oc) => oc.columns(['admin_token_id', 'key']).doNothing())
    .executeTakeFirst()
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1
}

export async function findIdempotentRequest(db: Executor, adminTokenId: string, key: string): Promise<StoredIdempotentRequest | undefined> {
  const row = await db
    .selectFrom('admin_idempotency_keys')
    .select(['request_hash', 'status', 'response_sealed'])
    .where('admin_token_id', '=', adminTokenId)
    .where('key', '=', key)
    .executeTakeFirst()
  return row && { requestHash: row.request_hash, status: row.status, responseSealed: row.response_sealed }
}

export async function storeIdempotentResponse(db: Executor, adminTokenId: string, key: string, status: number, responseSealed: string): Promise<void> {
  await db
    .updateTable('admin_idempotency_keys')
    .set({ status, response_sealed: responseSealed })
    .where('admin_token_id', '=', adminTokenId)
    .where('key', '=', key)
    .execute()
}

/** Lets the key be used again: the request it was claimed for failed, and made nothing. */
export async function releaseIdempotencyKey(db: Executor, adminTokenId: string, key: string): Promise<void> {
  await db.deleteFrom('admin_idempotency_keys').where('admin_token_id', '=', adminTokenId).where('key', '=', key).where('status', 'is', null).execute()
}

/** Forgets the keys past their window, a few hundred at a time. */
export async function deleteExpiredIdempotencyKeys(db: Executor, now: number, limit: number): Promise<number> {
  const batch = await db.selectFrom('admin_idempotency_keys').select(['admin_token_id', 'key']).where('expires_at', '<=', now).limit(limit).execute()
  let deleted = 0
  for (const row of batch) {
    const result = await db.deleteFrom('admin_idempotency_keys').where('admin_token_id', '=', row.admin_token_id).where('key', '=', row.key).executeTakeFirst()
    deleted += Number(result.numDeletedRows)
  }
  return deleted
}
