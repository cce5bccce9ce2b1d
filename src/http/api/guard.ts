import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { authenticateBearer } from '../../tokens/bearer.js'
import type { Principal } from '../../tokens/principal.js'
import { ApiError, insufficientScope, invalidToken, missingToken, tokenOutsideHeader } from './errors.js'
import { apiResourceMetadataUrl, apiResourceUri } from '../../resources/resources.js'
import { rateLimitRefusals } from '../../observability/metrics.js'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

export type BearerCredentials = { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; token: string }

/** RFC 6750 §2.1: `Authorization: Bearer <token>`, the scheme name in any letter case. */
export function readBearer(authorization: string | undefined): BearerCredentials {
  if (authorization === undefined || authorization.trim() === '') return { kind: 'none' }
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization)
  return match ? { kind: 'token', token: match[1]! } : { kind: 'malformed' }
}

function hasTokenParameter(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'access_token')
}

/**
 * The check in front of every API route: the bearer token (RFC 6750), then
 * the scope the route needs, then the user's rate limit. The limit's headers
 * (X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset) go on every
 * answer to a token that has the route's scope, the 429 included; a refused
 * token (401) or one without the scope (403 insufficient_scope, RFC 6750
 * §3.1) is answered before the limiter counts the call, so without them.
 */
export function apiGuard(ctx: AppContext, requiredScope: string) {
  // Built once per issuer: a URL parsed on every call costs a bearer check a few percent of its time.
  let issuer: string | undefined
  let metadata = ''
  let api = ''
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (ctx.config.issuer !== issuer) {
      issuer = ctx.config.issuer
      metadata = apiResourceMetadataUrl(issuer)
      api = apiResourceUri(issuer)
    }
    // RFC 6750 §2.2/§2.3 allow these; the API refuses them, as a token in a URL ends up in logs.
    if (hasTokenParameter(request.query) || hasTokenParameter(request.body)) throw tokenOutsideHeader(metadata)
    const credentials = readBearer(request.headers.authorization)
    if (credentials.kind === 'none') throw missingToken(metadata)
    if (credentials.kind === 'malformed') throw invalidToken('malformed Authorization header', metadata)
    const verdict = await authenticateBearer(ctx, credentials.token)
    if (!verdict.ok) throw invalidToken(verdict.reason, metadata)
    const principal = verdict.principal
    // RFC 8707: a token bound to other resources is not for this API; one bound to none predates resources and is.
    if (principal.resources.length > 0 && !principal.resources.includes(api)) throw invalidToken('token issued for another resource', metadata)
    request.principal = principal
    if (principal.scopes.length > 0 && !principal.scopes.includes(requiredScope)) throw insufficientScope(requiredScope, metadata)

    const limit = await ctx.rateLimiter.consume(`user:${principal.user.id}`)
    reply.header('X-RateLimit-Limit', limit.limit)
    reply.header('X-RateLimit-Remaining', limit.remaining)
    reply.header('X-RateLimit-Reset', limit.resetAt)
    if (!limit.allowed) {
      rateLimitRefusals.api.inc()
      reply.header('Retry-After', limit.retryAfter)
      throw new ApiError(429, 'rate_limited', `Too many requests: ${limit.limit} a window. Try again in ${limit.retryAfter} s.`)
    }
  }
}
