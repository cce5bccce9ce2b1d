import type { Executor } from './executor.js'

/**
 * Keeps the hash of an assertion's jti until it can no longer be accepted:
 * true for the first caller, however many race, false once it was seen (RFC
 * 7523 §3: a jti is used once). In the database, so it holds across processes.
 */
export async function recordClientAssertion(db: Executor, jtiHash: string, clientId: string, expiresAt: number): Promise<boolean> {
  const result = await db
    .insertInto('client_assertions')
    .values({ jti_hash: jtiHash, client_id: clientId, expires_at: expiresAt })
    .onConflict((oc) => oc.column('jti_hash').doNothing())
    .executeTakeFirst()
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1
}
