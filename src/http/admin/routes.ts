import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { errorHandler } from '../errors.js'
import { authenticateAdmin, requireScope } from './guard.js'
import { idempotency } from './idempotency.js'
import { platformRoutes } from './platform.js'
import { clientRoutes } from './clients.js'
import { isAdminFailure, notFound, renderProblem, unsupportedMediaType } from './problems.js'
import { teamRoutes } from './teams.js'
import { trustedIssuerRoutes } from './trusted-issuers.js'
import { userRoutes } from './users.js'
import { adminValidatorCompiler } from './validation.js'
import { compiledOnFirstUse } from '../schema-compilers.js'
import { webhookRoutes } from './webhooks.js'

export const ADMIN_PREFIX = '/admin/v1'

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === 'application/json'
}

/**
 * The admin API under /admin/v1: the operator's command line over HTTP, for
 * admin tokens only. Each resource is one module registering its routes on
 * this scope.
 */
export async function adminRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(
    async (admin) => {
      admin.setValidatorCompiler(compiledOnFirstUse(adminValidatorCompiler))
      admin.decorateRequest('adminToken', null)
      admin.decorateRequest('idempotencyKey', null)

      admin.addHook('onRequest', async (request, reply) => {
        reply.header('Cache-Control', 'no-store')
        request.adminToken = await authenticateAdmin(ctx, request)
        requireScope(request.adminToken, request.method)
        if (hasBody(request) && !isJson(request.headers['content-type'])) throw unsupportedMediaType()
      })

      // A POST without a body is checked as an empty object: its required fields are named as missing.
      admin.addHook('preValidation', async (request) => {
        if (request.method === 'POST' && request.body === undefined) request.body = {}
      })

      const idempotent = idempotency(ctx)
      admin.addHook('preHandler', idempotent.preHandler)
      admin.addHook('onSend', idempotent.onSend)

      // Every call is in the log under the admin token's name, refused ones included once the token is known.
      admin.addHook('onResponse', async (request, reply) => {
        const token = request.adminToken
        if (!token) return
        ctx.activity.record({
          action: 'admin.request',
          adminTokenId: token.id,
          detail: `${token.name}: ${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]} ${reply.statusCode}`,
          address: request.ip,
        })
      })

      admin.setErrorHandler(errorHandler(isAdminFailure, renderProblem))
      admin.setNotFoundHandler(async (request) => {
        throw notFound(`No admin API operation ${request.method} ${request.url.split('?')[0]}.`)
      })

      userRoutes(admin, ctx)
      teamRoutes(admin, ctx)
      clientRoutes(admin, ctx)
      platformRoutes(admin, ctx)
      webhookRoutes(admin, ctx)
      trustedIssuerRoutes(admin, ctx)
    },
    { prefix: ADMIN_PREFIX },
  )
}
