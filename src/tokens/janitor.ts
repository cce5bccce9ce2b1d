import type { Logger } from '../logger.js'
import { pruneExpired, type PruneDeps } from './prune.js'
import { janitorPrunedRows } from '../observability/metrics.js'

/**
 * Prunes expired rows in the background, so the tables stop growing without
 * an operator. Every process runs one; the deletes are idempotent and made in
 * small batches, so several at once only share the work. The first run waits
 * a random part of the interval, to spread processes started together.
 */
export function startJanitor(ctx: PruneDeps & { log: Logger }, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<void> | undefined
  let timer: NodeJS.Timeout
  let stopped = false

  const run = () => {
    running = pruneExpired(ctx).then(
      (counts) => {
        for (const [kind, rows] of Object.entries(counts)) janitorPrunedRows.inc({ kind }, rows)
        const total = Object.values(counts).reduce((a, b) => a + b, 0)
        if (total > 0) ctx.log.info({ pruned: counts }, 'pruned expired rows')
      },
      (err: unknown) => ctx.log.warn({ err }, 'pruning failed; will try again'),
    )
    void running.finally(() => {
      if (!stopped) schedule(intervalMs)
    })
  }
  const schedule = (delay: number) => {
    timer = setTimeout(run, delay)
    timer.unref()
  }
  schedule(Math.floor(Math.random() * intervalMs))

  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
