import { clearCounter, countAttempt, forgiveAttempt, type Counter } from '../db/throttle-counters.js'
import type { Executor } from '../db/executor.js'

/*
 * Throttles on failed attempts, counted in the database so that every
 * process of a deployment shares them (the API's request budget lives in
 * the rate limiter instead: it is counted on every call, these only on the
 * rare failure).
 */

export interface AttemptWindow {
  limit: number
  windowSeconds: number
}

export interface Tally {
  /** Attempts in the window, this one included when it was counted. */
  attempts: number
  over: boolean
  /** The count's first crossing of the limit: the moment a lockout starts. */
  justCrossed: boolean
  /** Seconds until the window ends and the count starts over. */
  retryAfter: number
}

function tally(counter: Counter, policy: AttemptWindow, now: number): Tally {
  const endsAt = counter.windowStartedAt + policy.windowSeconds * 1000
  return {
    attempts: counter.attempts,
    over: counter.attempts > policy.limit,
    justCrossed: counter.attempts === policy.limit + 1,
    retryAfter: Math.max(1, Math.ceil((endsAt - now) / 1000)),
  }
}

export async function countAgainst(db: Executor, key: string, policy: AttemptWindow, now: number): Promise<Tally> {
  return tally(await countAttempt(db, key, now, policy.windowSeconds * 1000), policy, now)
}

/** Where a count read earlier stands, counting nothing; `over` once `limit` attempts are counted, as the next would be refused. */
export function standingOf(counter: Counter, policy: AttemptWindow, now: number): Tally {
  return { ...tally(counter, policy, now), over: counter.attempts >= policy.limit }
}

export function forgive(db: Executor, key: string): Promise<void> {
  return forgiveAttempt(db, key)
}

export function forget(db: Executor, key: string): Promise<void> {
  return clearCounter(db, key)
}
