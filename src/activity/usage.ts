import type { Db } from '../db/connection.js'
import { addApiUsage, listApiUsage, type UsageCount, type UsageFilter, type UsageSource, type UsageSummary } from '../db/api-usage.js'
import type { Logger } from '../logger.js'

export type { UsageSource, UsageSummary }

export const MINUTE_MS = 60_000

export interface ApiUsage {
  count(source: UsageSource, path: string, status: number): void
  /** Writes what is counted so far; resolves when it is in the database. */
  flush(): Promise<void>
  close(): Promise<void>
}

/**
 * Counts API calls in memory per token and minute and adds the counts to
 * the database about once a second, in one statement: an API call costs no
 * write of its own, and a busy token makes one row a minute, not one per
 * call. Every process adds to the same rows.
 */
export class BufferedApiUsage implements ApiUsage {
  private counts = new Map<string, UsageCount>()
  private writing: Promise<void> = Promise.resolve()
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly log: Logger,
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs)
    this.timer.unref()
  }

  count(source: UsageSource, path: string, status: number): void {
    const now = this.clock()
    const minute = now - (now % MINUTE_MS)
    const key = `${source.tokenId} ${minute}`
    const entry = this.counts.get(key)
    if (entry) {
      entry.calls++
      entry.lastPath = path
      entry.lastStatus = status
      entry.lastAt = now
    } else {
      this.counts.set(key, { ...source, minute, calls: 1, lastPath: path, lastStatus: status, lastAt: now })
    }
  }

  flush(): Promise<void> {
    const batch = [...this.counts.values()]
    this.counts = new Map()
    this.writing = this.writing.then(async () => {
      if (batch.length === 0) return
      try {
        await addApiUsage(this.db.kysely, batch)
      } catch (err) {
        this.log.error({ err }, 'could not write API usage')
      }
    })
    return this.writing
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.flush()
  }
}

/** API calls in the team since `since`, per app or token and user, the most recently used first. */
export function usageSince(db: Db, filter: UsageFilter): Promise<UsageSummary[]> {
  return listApiUsage(db.kysely, filter)
}
