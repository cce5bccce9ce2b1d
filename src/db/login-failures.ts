import type { Executor } from './executor.js'

/**
 * Counts one attempt for the key and returns the count, in one statement so
 * that parallel attempts each see their own number; a window older than
 * `windowStartedBefore` starts over.
 */
export async function recordLoginAttempt(db: Executor, key: string, now: number, windowStartedBefore: number): Promise<number> {
  const row = await db
    .insertInto('login_failures')
    .values({ key, failures: 1, window_started_at: now })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        failures: eb
          .case()
          .when('login_failures.window_started_at', '<', windowStartedBefore)
          .then(1)
          .else(eb('login_failures.failures', '+', 1))
          .end(),
        window_started_at: eb
          .case()
          .when('login_failures.window_started_at', '<', windowStartedBefore)
          .then(now)
          .else(eb.ref('login_failures.window_started_at'))
          .end(),
      })),
    )
    .returning('failures')
    .executeTakeFirstOrThrow()
  return row.failures
}

/** Takes back one counted attempt, for one that succeeded. */
export async function forgiveLoginAttempt(db: Executor, key: string): Promise<void> {
  await db
    .updateTable('login_failures')
    .set((eb) => ({ failures: eb('failures', '-', 1) }))
    .where('key', '=', key)
    .where('failures', '>', 0)
    .execute()
}

export async function clearLoginFailures(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('login_failures').where('key', '=', key).execute()
}
