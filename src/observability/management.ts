import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import { ConfigError, type Config } from '../config.js'
import type { Db } from '../db/connection.js'
import { readiness } from '../http/health.js'
import type { Logger } from '../logger.js'
import { scrape } from './metrics.js'

export interface ManagementListener {
  /** Where it listens, e.g. http://127.0.0.1:9464 */
  url: string
  close(): Promise<void>
}

export interface ManagementOptions {
  /** The database `/readyz` checks. */
  db: Db
  /** The primary of `--workers`: `/metrics` gathers every worker's metrics and adds them up. */
  cluster: boolean
  log: Logger
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) })
  response.end(body)
}

function json(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(body))
}

/**
 * The operator's port, apart from the public one: `/metrics` for Prometheus,
 * and `/healthz` and `/readyz` as the public port answers them. Bound to
 * loopback unless told otherwise, since metrics describe the traffic of
 * every client. A small node:http server: it has three answers to give and
 * must keep answering while the public app is busy.
 */
export async function startManagement(
  config: Pick<Config, 'managementPort' | 'managementHost'>,
  options: ManagementOptions,
): Promise<ManagementListener | undefined> {
  if (config.managementPort === 'off') return undefined
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0]
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD')
      return json(response, 405, { error: 'method_not_allowed' })
    }
    if (path === '/metrics') {
      try {
        const { contentType, text } = await scrape(options.cluster)
        return send(response, 200, contentType, text)
      } catch (err) {
        options.log.warn({ err }, 'could not gather the metrics')
        return json(response, 503, { error: 'metrics_unavailable' })
      }
    }
    if (path === '/healthz') return json(response, 200, { status: 'ok' })
    if (path === '/readyz') {
      const state = await readiness(options.db)
      if (state.ready) return json(response, 200, { status: 'ready' })
      if (state.err !== undefined) options.log.warn({ err: state.err }, 'readiness check failed')
      return json(response, 503, { status: 'not_ready', reason: state.reason })
    }
    return json(response, 404, { error: 'not_found' })
  }
  const server = createServer((request, response) => {
    answer(request, response).catch((err: unknown) => {
      options.log.error({ err }, 'the management listener failed to answer')
      if (!response.headersSent) json(response, 500, { error: 'server_error' })
      else response.destroy()
    })
  })
  server.listen(config.managementPort, config.managementHost)
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))])
  } catch (err) {
    server.close()
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE')
      throw new ConfigError('GATEHOUSE_MANAGEMENT_PORT', `port ${config.managementPort} is already in use on ${config.managementHost} (set off to disable)`)
    if (code === 'EACCES') throw new ConfigError('GATEHOUSE_MANAGEMENT_PORT', `not allowed to listen on port ${config.managementPort}`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError('GATEHOUSE_MANAGEMENT_HOST', `cannot listen on ${config.managementHost}`)
    throw err
  }
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.managementPort
  const host = config.managementHost.includes(':') ? `[${config.managementHost}]` : config.managementHost
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
