import type { FastifyInstance, FastifyRequest } from 'fastify'
import { readBearer } from '../api/guard.js'
import { ApiError, insufficientScope, invalidToken, isApiError, missingToken } from '../api/errors.js'
import type { AppContext } from '../../context.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import { userinfo } from '../../oidc/userinfo.js'
import { errorHandler } from '../errors.js'
import { renderOAuthError } from './machine-endpoints.js'

function invalidRequest(description: string): ApiError {
  return new ApiError(400, 'invalid_request', description, `Bearer realm="gatehouse", error="invalid_request"`)
}

function hasTokenParameter(value: unknown): value is { access_token: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'access_token')
}

/**
 * RFC 6750 §2.1 (header) everywhere, and §2.2 (a form body) at this endpoint
 * only, as OpenID Connect Core §5.3.1 allows; never the query string (§2.3),
 * and never two methods at once (§2).
 */
function presentedToken(request: FastifyRequest): string {
  if (hasTokenParameter(request.query)) throw invalidRequest('Send the access token in the Authorization header or a form body, never in the query string.')
  const fromHeader = readBearer(request.headers.authorization)
  const isForm = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded'
  const body = request.method === 'POST' && isForm && hasTokenParameter(request.body) ? request.body.access_token : undefined
  if (body !== undefined) {
    if (fromHeader.kind !== 'none') throw invalidRequest('Send the access token one way only.')
    if (typeof body !== 'string' || body === '') throw invalidToken('malformed token')
    return body
  }
  if (fromHeader.kind === 'none') throw missingToken()
  if (fromHeader.kind === 'malformed') throw invalidToken('malformed Authorization header')
  return fromHeader.token
}

/** OpenID Connect Core §5.3: the userinfo endpoint, GET and POST. */
export async function userinfoRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('Cache-Control', 'no-store')
    })
    // RFC 6750 errors carry their challenge; everything else is answered as at the other OAuth endpoints.
    scope.setErrorHandler(
      errorHandler(isApiError, (failure, request, reply) => {
        if (failure.kind !== 'own') return renderOAuthError(failure, request, reply)
        if (failure.error.challenge) reply.header('WWW-Authenticate', failure.error.challenge)
        return reply.code(failure.error.status).send({ error: failure.error.error, error_description: failure.error.message })
      }),
    )
    const handler = async (request: FastifyRequest) => {
      const answer = await userinfo(ctx, presentedToken(request))
      if (answer.ok) return answer.claims
      throw answer.error === 'insufficient_scope' ? insufficientScope(answer.scope) : invalidToken(answer.reason)
    }
    scope.get(ENDPOINTS.userinfo, handler)
    scope.post(ENDPOINTS.userinfo, handler)
  })
}
