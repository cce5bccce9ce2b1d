import type { Logger } from '../logger.js'

/** How the wait between attempts grows. */
export interface RetryPolicy {
  /** The wait after the first failed attempt; it doubles after each further one, up to `maxRetryDelayMs`. */
  firstRetryDelayMs: number
  maxRetryDelayMs: number
}

/** When to try again after `attempts` failed ones, or undefined when that would be past `giveUpAt`. */
export function nextAttemptAt(policy: RetryPolicy, attempts: number, now: number, giveUpAt: number): number | undefined {
  const next = now + Math.min(policy.firstRetryDelayMs * 2 ** (attempts - 1), policy.maxRetryDelayMs)
  return next < giveUpAt ? next : undefined
}

export interface QueueWorkerOptions<Job> {
  log: Logger
  clock: () => number
  /** What the logs say when work beside a request fails. */
  failure: string
  /** How often each process looks for jobs due (those of a restart, or of another process that stopped). */
  pollIntervalMs: number
  /** Jobs claimed in one pass. */
  batch: number
  /** How long one process holds a job it is working on before another may take it. */
  leaseMs: number
  /** Whether the claimed jobs of a pass are attempted side by side, or one after another. */
  sideBySide: boolean
  listDue(now: number, limit: number): Promise<string[]>
  claim(id: string, now: number, leaseUntil: number): Promise<Job | undefined>
  attempt(job: Job): Promise<void>
}

/**
 * Works through a durable queue: jobs wait in the database, and whichever
 * process claims one first makes the attempt, after a restart too. Runs its
 * work beside the requests that queue jobs, never in their way.
 */
export class QueueWorker<Job> {
  private readonly running = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private passing = false
  private passAgain = false
  private closed = false

  constructor(private readonly options: QueueWorkerOptions<Job>) {}

  /** Looks for due jobs from now on (a serving process; a command only works through what it queued). */
  start(): void {
    this.timer ??= setInterval(() => this.beside(this.pass()), this.options.pollIntervalMs)
    this.timer.unref()
    this.beside(this.pass())
  }

  /** A job was queued: a started worker takes it at once rather than at its next look. */
  wake(): void {
    if (this.timer) this.beside(this.pass())
  }

  /** Runs work beside the request, never in its way; waited for at shutdown. */
  beside(work: Promise<void>): void {
    const caught = work.catch((err: unknown) => this.options.log.warn({ err }, this.options.failure))
    this.running.add(caught)
    void caught.finally(() => this.running.delete(caught))
  }

  /** Waits for the work under way. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running])
  }

  /** Stops looking for jobs and waits for the attempts in flight; what is left waits in the database. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.settled()
  }

  /** One pass over the due jobs; a pass asked for while one runs follows it. */
  async pass(): Promise<void> {
    if (this.closed) return
    if (this.passing) {
      this.passAgain = true
      return
    }
    this.passing = true
    const { batch, leaseMs } = this.options
    try {
      do {
        this.passAgain = false
        const now = this.options.clock()
        const due = await this.options.listDue(now, batch)
        const claimed = (await Promise.all(due.map((id) => this.options.claim(id, now, now + leaseMs)))).filter((job) => job !== undefined)
        if (this.options.sideBySide) await Promise.all(claimed.map((job) => this.options.attempt(job)))
        else for (const job of claimed) await this.options.attempt(job)
        if (due.length === batch) this.passAgain = true
      } while (this.passAgain && !this.closed)
    } finally {
      this.passing = false
    }
  }
}
