import type { FastifyInstance, FastifyRequest } from 'fastify'
import { readBearer } from '../api/guard.js'
import { checkInitialAccessToken, deleteRegistration, readRegistration, registerDynamicClient, updateRegistration } from '../../clients/registration.js'
import type { AppContext } from '../../context.js'
import { TooManyRequests } from '../../oauth/errors.js'
import { ENDPOINTS } from '../../oauth/metadata.js'

function bearerToken(request: FastifyRequest): string | undefined {
  const credentials = readBearer(request.headers.authorization)
  return credentials.kind === 'token' ? credentials.token : undefined
}

/** RFC 7591 registration and RFC 7592 management, inside the machine-facing OAuth scope (JSON errors, no-store). */
export function registrationRoutes(scope: FastifyInstance, ctx: AppContext): void {
  const deps = () => ({ db: ctx.db, keys: ctx.keys, issuer: ctx.config.issuer })

  scope.post(ENDPOINTS.registration, async (request, reply) => {
    const limit = await ctx.registrationRateLimiter.consume(`register:${request.ip}`)
    if (!limit.allowed) throw new TooManyRequests(`Too many registrations from this address; try again in ${limit.retryAfter} s.`, limit.retryAfter)
    if (ctx.config.clientRegistration === 'token') await checkInitialAccessToken(ctx.db, bearerToken(request), ctx.clock())
    return reply.code(201).send(await registerDynamicClient(deps(), request.body, ctx.clock()))
  })

  scope.get<{ Params: { id: string } }>(`${ENDPOINTS.registration}/:id`, async (request) => {
    return readRegistration(deps(), request.params.id, bearerToken(request), ctx.clock())
  })

  scope.put<{ Params: { id: string } }>(`${ENDPOINTS.registration}/:id`, async (request) => {
    return updateRegistration(deps(), request.params.id, bearerToken(request), request.body, ctx.clock())
  })

  scope.delete<{ Params: { id: string } }>(`${ENDPOINTS.registration}/:id`, async (request, reply) => {
    await deleteRegistration(deps(), request.params.id, bearerToken(request))
    return reply.code(204).send()
  })
}
