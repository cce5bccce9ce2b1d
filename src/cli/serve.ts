import cluster from 'node:cluster'
import { ConfigError, loadConfig } from '../config.js'
import { startTracing, type Tracing } from '../observability/tracing.js'
import { SHUTDOWN_GRACE_MS, startServer } from '../server.js'
import { parseWorkerCount, startPrimary } from '../workers.js'
import { optional, UsageError, type Commands } from './command.js'

/** SIGTERM or SIGINT: stop taking requests, finish those in flight, close pools, exit 0. */
function onStop(stop: () => Promise<void>, tracing: Tracing | undefined): void {
  const handler = () => {
    // The server cuts lingering connections after its grace period; should
    // closing the pools hang as well, the process still ends.
    setTimeout(() => {
      process.stderr.write('gatehouse: shutdown did not finish in time; exiting\n')
      process.exit(1)
    }, SHUTDOWN_GRACE_MS + 5_000).unref()
    // The spans of the last requests are sent before the process ends.
    stop()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  process.once('SIGTERM', handler)
  process.once('SIGINT', handler)
}

/** `--workers` is how the command was called: a value it cannot take is a usage error (exit 2), not a setting's. */
function workerCount(value: string | undefined): number {
  try {
    return parseWorkerCount(value)
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message)
    throw err
  }
}

export const serveCommand: Commands = {
  serve: {
    usage: 'gatehouse serve [--workers N|auto]',
    options: { workers: { type: 'string' } },
    async run(values) {
      const workers = workerCount(optional(values, 'workers'))
      const config = loadConfig()
      // The primary of --workers answers no requests: only the processes that do trace.
      const tracing = workers > 1 && cluster.isPrimary ? undefined : await startTracing()
      if (cluster.isWorker) {
        const server = await startServer(config, { logger: true, sandbox: false, management: false })
        onStop(() => server.close(), tracing)
        return
      }
      const started = workers > 1 ? await startPrimary(config, workers, process.argv.slice(2)) : await startServer(config, { logger: true })
      process.stdout.write(`Gatehouse is running at ${config.issuer} (listening on ${started.url}${workers > 1 ? `, ${workers} workers` : ''})\n`)
      if (started.managementUrl) process.stdout.write(`Metrics and health checks at ${started.managementUrl} (/metrics, /healthz, /readyz)\n`)
      if (started.sandbox) {
        process.stdout.write(
          `\nA sandbox account was created. Log in at ${config.issuer}/login with\n` +
            `  e-mail:   ${started.sandbox.email}\n` +
            `  password: ${started.sandbox.password}\n` +
            `This password is shown only once.\n\n`,
        )
      }
      if (started.noUsers) {
        process.stdout.write(
          `\nNo account exists yet. Create the first owner with\n` + `  npx gatehouse users create --email E --name N --password P --team T --verified\n\n`,
        )
      }
      onStop(() => ('stop' in started ? started.stop() : started.close()), tracing)
    },
  },
}
