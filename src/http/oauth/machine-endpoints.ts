import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify'
import {
  ClientAuthenticationThrottled,
  InvalidClient,
  InvalidRequest,
  InvalidToken,
  OAuthError,
  ServerError,
  TemporarilyUnavailable,
  TooManyRequests,
} from '../../protocol/errors.js'
import { refuseCredentialsInQuery, type RawParams } from '../../protocol/params.js'
import { errorHandler, type Failure } from '../errors.js'

function isOAuthError(error: unknown): error is OAuthError {
  return error instanceof OAuthError
}

function oauthErrorOf(failure: Failure<OAuthError>): OAuthError {
  switch (failure.kind) {
    case 'own':
      return failure.error
    case 'unavailable':
      return new TemporarilyUnavailable('The server cannot reach its database; try again shortly.')
    case 'rejected':
      return new InvalidRequest(
        failure.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'Send the parameters as application/x-www-form-urlencoded or application/json.'
          : 'The request body could not be read.',
      )
    case 'failed':
      return new ServerError()
  }
}

/** The machine-facing renderer: JSON in RFC 6749 §5.2 shape, whatever went wrong. */
export function renderOAuthError(failure: Failure<OAuthError>, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = oauthErrorOf(failure)
  if (error instanceof InvalidClient && error.usedBasic) reply.header('WWW-Authenticate', 'Basic realm="gatehouse", charset="UTF-8"')
  // RFC 6750 §3: a missing or wrong initial or registration access token (RFC 7591 §3, RFC 7592 §2).
  if (error instanceof InvalidToken) reply.header('WWW-Authenticate', 'Bearer realm="gatehouse", error="invalid_token"')
  if (error instanceof TooManyRequests || error instanceof ClientAuthenticationThrottled) reply.header('Retry-After', String(error.retryAfter))
  return reply.code(error.status).send({ error: error.error, error_description: error.description })
}

/**
 * A scope for machine-facing OAuth endpoints (token, revocation,
 * introspection and the like): RFC 6749 JSON for every failure, answers
 * never cached, credentials in the query string refused. Routes go in with
 * `endpoint` so that other methods get a 405 rather than the portal's 404.
 */
export async function machineEndpoints(app: FastifyInstance, routes: (scope: FastifyInstance) => void): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler(errorHandler(isOAuthError, renderOAuthError))
    scope.addHook('onSend', async (_request, reply) => {
      // RFC 6749 §5.1: token responses, errors included, must not be cached.
      reply.header('Cache-Control', 'no-store')
      reply.header('Pragma', 'no-cache')
    })
    scope.addHook('preValidation', async (request) => {
      refuseCredentialsInQuery(request.query as RawParams)
    })
    routes(scope)
  })
}

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']

/** One endpoint with a handler per method it supports; every other method answers 405 with `Allow` (RFC 9110 §15.5.6). */
export function endpoint(scope: FastifyInstance, url: string, handlers: Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', RouteHandlerMethod>>): void {
  for (const [method, handler] of Object.entries(handlers)) scope.route({ method, url, handler })
  const allowed = Object.keys(handlers).flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method]))
  const refused = METHODS.filter((method) => !allowed.includes(method))
  scope.route({
    method: refused,
    url,
    handler: async (request, reply) => {
      reply.header('Allow', allowed.join(', '))
      throw new InvalidRequest(`${url} does not answer ${request.method}; use ${allowed.join(' or ')}.`, 405)
    },
  })
}
