import type { Db } from '../db/connection.js'
import { insertActivities } from '../db/activities.js'
import type { ActivityEvent } from './types.js'

export interface ActivityLog {
  record(event: ActivityEvent): void
  /** Writes what is buffered; resolves when it is in the database. */
  flush(): Promise<void>
  close(): Promise<void>
}

/**
 * Buffers events and writes them in one multi-row insert a few times a
 * second, so logging every API call costs the request no database write.
 */
export class BufferedActivityLog implements ActivityLog {
  private buffer: { event: ActivityEvent; at: number }[] = []
  private writing: Promise<void> = Promise.resolve()
  private readonly listeners: ((entries: { event: ActivityEvent; at: number }[]) => Promise<void>)[] = []
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
    private readonly onError: (err: unknown) => void,
    intervalMs = 250,
    private readonly maxBuffered = 500,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs)
    this.timer.unref()
  }

  /** Hears of every batch once it is written (webhooks: an event is sent only once its entry is in the log). */
  listen(listener: (entries: { event: ActivityEvent; at: number }[]) => Promise<void>): void {
    this.listeners.push(listener)
  }

  record(event: ActivityEvent): void {
    this.buffer.push({ event, at: this.clock() })
    if (this.buffer.length >= this.maxBuffered) void this.flush()
  }

  flush(): Promise<void> {
    const batch = this.buffer
    this.buffer = []
    this.writing = this.writing.then(async () => {
      if (batch.length === 0) return
      try {
        await insertActivities(this.db.kysely, batch)
        for (const listener of this.listeners) await listener(batch)
      } catch (err) {
        this.onError(err)
      }
    })
    return this.writing
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.flush()
  }
}
