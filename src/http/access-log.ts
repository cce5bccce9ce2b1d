import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import type { AccessLogMode } from '../config.js'

/** In `sampled` mode, one request in this many gets a line. */
export const ACCESS_LOG_SAMPLE_EVERY = 100

/**
 * Fastify's request logging, reduced to one line per answered request
 * (method, path, status, milliseconds) for every request, a sample, or
 * none, as GATEHOUSE_ACCESS_LOG says: at thousands of requests a second a
 * line each costs more than many of the requests themselves. Errors,
 * failed responses and warnings are logged whatever the mode.
 */
export class AccessLog extends LogController {
  private seen = 0

  constructor(private readonly mode: AccessLogMode) {
    super()
  }

  override incomingRequest(): void {}

  override routeNotFound(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply)
    if (this.mode === 'off' || (this.mode === 'sampled' && this.seen++ % ACCESS_LOG_SAMPLE_EVERY !== 0)) return
    // The path alone: query strings can carry codes and state.
    reply.log.info({ method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request')
  }
}
