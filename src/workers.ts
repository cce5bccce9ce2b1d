import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import { ensureSandboxAccount, withdrawSandboxAccount, type FirstAccount } from './accounts/sandbox.js'
import { ConfigError, type Config } from './config.js'
import { hostClusterRateLimits } from './ratelimit/limiter.js'
import type { Db } from './db/connection.js'
import { startManagement, type ManagementListener } from './observability/management.js'
import { closeContext, connectDatabase, createLogger, openContext } from './server.js'

/** `--workers N` or `--workers auto` (one per core). */
export function parseWorkerCount(value: string | undefined): number {
  if (value === undefined) return 1
  if (value === 'auto') return availableParallelism()
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256)
    throw new ConfigError('--workers', `"${value}" is not a number of workers (1-256) or auto`)
  return Number(value)
}

export interface Primary {
  url: string
  sandbox: FirstAccount['sandbox']
  noUsers: boolean
  /** Where the management listener answers for the whole cluster; undefined when it is off. */
  managementUrl: string | undefined
  stop(): Promise<void>
}

/**
 * The primary process of `serve --workers N`: it prepares the database
 * once (migrations, secret, keys), forks the workers, which share the port
 * through node:cluster, replaces any that die, and stops them all on SIGTERM.
 * It holds the management listener: one /metrics for the cluster, adding up
 * what each worker counted, and /readyz on a database connection of its own.
 */
export async function startPrimary(config: Config, count: number, argv: string[]): Promise<Primary> {
  const log = createLogger(true)
  const ctx = await openContext(config, log)
  hostClusterRateLimits()
  let management: ManagementListener | undefined
  let db: Db | undefined
  try {
    if (config.managementPort !== 'off') {
      db = await connectDatabase(config)
      management = await startManagement(config, { db, cluster: true, log })
    }
  } catch (err) {
    await db?.close()
    await closeContext(ctx)
    throw err
  }
  const closeManagement = async () => {
    await management?.close()
    await db?.close()
  }
  // Before any worker listens, so that the login page never answers before the account exists.
  const { sandbox, noUsers } = await ensureSandboxAccount(ctx.db, Date.now(), config.sandboxAccount)
  cluster.setupPrimary({ args: argv })
  let stopping = false

  const fork = () => cluster.fork()
  const listening = Promise.all(
    Array.from({ length: count }, () => {
      const worker = fork()
      return new Promise<Worker>((resolve, reject) => {
        worker.once('listening', () => resolve(worker))
        worker.once('exit', (code) => reject(new Error(`a worker exited with code ${code} before it listened`)))
      })
    }),
  )
  try {
    await listening
  } catch (err) {
    stopping = true
    if (sandbox) await withdrawSandboxAccount(ctx.db)
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM')
    await closeManagement()
    await closeContext(ctx)
    throw err
  }

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    log.warn({ worker: worker.process.pid, code, signal }, 'a worker died; starting another')
    setTimeout(fork, 1000).unref()
  })

  await closeContext(ctx)
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
    sandbox,
    noUsers,
    managementUrl: management?.url,
    async stop() {
      stopping = true
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve()
              worker.once('exit', () => resolve())
              worker.process.kill('SIGTERM')
            }),
        ),
      )
      await closeManagement()
    },
  }
}
