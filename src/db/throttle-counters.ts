import type { Executor } from './executor.js'

export interface Counter {
  attempts: number
  /** When the count started; it starts over one window later. */
  windowStartedAt: number
}

/**
 * Counts one attempt for the key and returns the count, in one statement so
 * that parallel attempts each see their own number; a window that ended
 * starts over at 1.
 */
export async function countAttempt(db: Executor, key: string, now: number, windowMs: number): Promise<Counter> {
  const ended = now - windowMs
  const row = await db
    .insertInto('throttle_counters')
    .values({ key, attempts: 1, window_started_at: now, expires_at: now + windowMs })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => {
        const over = eb('throttle_counters.window_started_at', '<=', ended)
        return {
          attempts: eb
            .case()
            .when(over)
            .then(1)
            .else(eb('throttle_counters.attempts', '+', 1))
            .end(),
          window_started_at: eb.case().when(over).then(now).else(eb.ref('throttle_counters.window_started_at')).end(),
          expires_at: eb
            .case()
            .when(over)
            .then(now + windowMs)
            .else(eb.ref('throttle_counters.expires_at'))
            .end(),
        }
      }),
    )
    .returning(['attempts', 'window_started_at'])
    .executeTakeFirstOrThrow()
  return { attempts: row.attempts, windowStartedAt: Number(row.window_started_at) }
}

/** Takes back one counted attempt, for one that succeeded. */
export async function forgiveAttempt(db: Executor, key: string): Promise<void> {
  await db
    .updateTable('throttle_counters')
    .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
    .where('key', '=', key)
    .where('attempts', '>', 0)
    .execute()
}

export async function clearCounter(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('throttle_counters').where('key', '=', key).execute()
}
