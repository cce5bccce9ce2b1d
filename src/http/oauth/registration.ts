import type { FastifyInstance, FastifyRequest } from 'fastify'
import { readBearer } from '../api/guard.js'
import { checkInitialAccessToken } from '../../clients/registration/initial-tokens.js'
import { deleteRegistration, readRegistration, registerDynamicClient, updateRegistration } from '../../clients/registration/management.js'
import type { AppContext } from '../../context.js'
import { TooManyRequests } from '../../protocol/errors.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import { endpoint } from './machine-endpoints.js'
import { rateLimitRefusals, registrations } from '../../observability/metrics.js'

function bearerToken(request: FastifyRequest): string | undefined {
  const credentials = readBearer(request.headers.authorization)
  return credentials.kind === 'token' ? credentials.token : undefined
}

/** RFC 7591 registration and RFC 7592 management, inside the machine-facing OAuth scope (JSON errors, no-store). */
export function registrationRoutes(scope: FastifyInstance, ctx: AppContext): void {
  const deps = () => ({ db: ctx.db, keys: ctx.keys, issuer: ctx.config.issuer, idTokenAlgorithms: ctx.keyRing.idTokenAlgorithms() })

  endpoint(scope, ENDPOINTS.registration, {
    POST: async (request, reply) => {
      let registered
      try {
        const limit = await ctx.registrationRateLimiter.consume(`register:${request.ip}`)
        if (!limit.allowed) {
          rateLimitRefusals.registration.inc()
          throw new TooManyRequests(`Too many registrations from this address; try again in ${limit.retryAfter} s.`, limit.retryAfter)
        }
        if (ctx.config.clientRegistration === 'token') await checkInitialAccessToken(ctx.db, bearerToken(request), ctx.clock())
        registered = await registerDynamicClient(deps(), request.body, ctx.clock())
      } catch (err) {
        registrations.refused.inc()
        throw err
      }
      registrations.registered.inc()
      return reply.code(201).send(registered)
    },
  })

  const clientIdOf = (request: FastifyRequest) => (request.params as { id: string }).id
  endpoint(scope, `${ENDPOINTS.registration}/:id`, {
    GET: async (request) => readRegistration(deps(), clientIdOf(request), bearerToken(request), ctx.clock()),
    PUT: async (request) => updateRegistration(deps(), clientIdOf(request), bearerToken(request), request.body, ctx.clock()),
    DELETE: async (request, reply) => {
      await deleteRegistration(deps(), clientIdOf(request), bearerToken(request))
      return reply.code(204).send()
    },
  })
}
