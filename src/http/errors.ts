import type { IncomingMessage } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isDatabaseUnavailable } from '../db/errors.js'

/**
 * What went wrong with a request, sorted once for every kind of answer:
 * - `own`: an error of the answering surface's own type (OAuthError, ApiError, Refusal), which says what to answer;
 * - `unavailable`: the database could not be reached; 503, try again shortly;
 * - `rejected`: Fastify refused the request itself (unreadable body, media type, schema): a 4xx with its message;
 * - `failed`: anything else; a 500 whose cause is logged and never shown.
 */
export type Failure<Own> =
  | { kind: 'own'; error: Own }
  | { kind: 'unavailable' }
  | { kind: 'rejected'; status: number; code: string | undefined; message: string; validation: boolean }
  | { kind: 'failed' }

export function triage<Own>(error: unknown, isOwn: (error: unknown) => error is Own): Failure<Own> {
  if (isOwn(error)) return { kind: 'own', error }
  if (isDatabaseUnavailable(error)) return { kind: 'unavailable' }
  const { statusCode, code, message, validation } = error as Partial<FastifyError>
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { kind: 'rejected', status: statusCode, code, message: String(message ?? ''), validation: validation !== undefined }
  }
  return { kind: 'failed' }
}

/** Seconds a client is asked to wait before trying again while the database is away. */
export const RETRY_AFTER_SECONDS = 5

/** Turns a triaged failure into the answer of one surface: RFC 6749 JSON, API JSON, or a portal page. */
export type FailureRenderer<Own> = (failure: Failure<Own>, request: FastifyRequest, reply: FastifyReply) => unknown

/** A Fastify error handler: triage, the log line the failure deserves, then the surface's renderer. */
export function errorHandler<Own>(isOwn: (error: unknown) => error is Own, render: FailureRenderer<Own>) {
  return async (error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const failure = triage(error, isOwn)
    if (failure.kind === 'unavailable') {
      request.log.warn({ err: error }, 'database unavailable')
      reply.header('Retry-After', String(RETRY_AFTER_SECONDS))
    } else if (failure.kind === 'failed') {
      request.log.error({ err: error }, 'request failed')
    }
    await finishReadingBody(request, reply)
    return render(failure, request, reply)
  }
}

/**
 * Reads and drops what is left of a request body that was answered before it
 * was read (an unknown media type, a refused method, a 404). A client still
 * sending its body would otherwise see the connection close under it and get
 * a reset instead of the answer. Past the body limit the connection is closed
 * after the answer, gracefully (see graceful-close.ts).
 */
export async function finishReadingBody(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const raw = request.raw
  if (raw.complete || raw.readableEnded || raw.destroyed) return
  const drained = await drain(raw, request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit ?? 1_048_576)
  if (!drained) reply.header('Connection', 'close')
}

function drain(raw: IncomingMessage, limit: number): Promise<boolean> {
  return new Promise((resolve) => {
    let received = 0
    const finish = (drained: boolean) => {
      raw.off('data', onData)
      raw.off('end', onEnd)
      raw.off('error', onError)
      raw.off('close', onError)
      resolve(drained)
    }
    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received > limit) finish(false)
    }
    const onEnd = () => finish(true)
    const onError = () => finish(false)
    raw.on('data', onData)
    raw.once('end', onEnd)
    raw.once('error', onError)
    raw.once('close', onError)
    raw.resume()
  })
}
