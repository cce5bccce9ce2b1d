import type { Executor } from './executor.js'

export async function findLoginFailures(db: Executor, keys: string[]): Promise<{ key: string; failures: number; windowStartedAt: number }[]> {
  if (keys.length === 0) return []
  const rows = await db.selectFrom('login_failures').selectAll().where('key', 'in', keys).execute()
  return rows.map((r) => ({ key: r.key, failures: r.failures, windowStartedAt: r.window_started_at }))
}

/** Counts one failure for the key; a window older than `windowStartedBefore` starts over. */
export async function recordLoginFailure(db: Executor, key: string, now: number, windowStartedBefore: number): Promise<void> {
  await db
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
    .execute()
}

export async function clearLoginFailures(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('login_failures').where('key', '=', key).execute()
}
