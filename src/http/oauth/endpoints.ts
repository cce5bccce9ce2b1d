import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { authenticateClient } from '../../oauth/client-authentication.js'
import { InvalidClient, InvalidRequest, OAuthError, TemporarilyUnavailable, TooManyRequests } from '../../oauth/errors.js'
import { InvalidToken } from '../../clients/registration.js'
import { registrationRoutes } from './registration.js'
import { resourceScopes } from '../../resources/resources.js'
import { isDatabaseUnavailable } from '../../db/errors.js'
import { introspect } from '../../oauth/introspection.js'
import { authorizationServerMetadata, ENDPOINTS, openIdConfiguration } from '../../oauth/metadata.js'
import { param, type RawParams } from '../../oauth/params.js'
import { revokeToken } from '../../oauth/revocation.js'
import { handleTokenRequest } from '../../oauth/token-endpoint.js'

function bodyParams(request: FastifyRequest): RawParams {
  const body = request.body
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('The request body must be a set of parameters.')
  return body as RawParams
}

function clientCredentials(request: FastifyRequest, params: RawParams) {
  return { authorization: request.headers.authorization, clientId: param(params, 'client_id'), clientSecret: param(params, 'client_secret') }
}

/** The machine-facing OAuth endpoints: JSON in RFC 6749 §5.2 shape, whatever goes wrong. */
export async function oauthEndpoints(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply) => {
      // RFC 6749 §5.1: token responses, errors included, must not be cached.
      reply.header('Cache-Control', 'no-store')
      reply.header('Pragma', 'no-cache')
    })

    scope.setErrorHandler(async (error: FastifyError | OAuthError, request, reply) => {
      let oauthError: OAuthError
      if (error instanceof OAuthError) {
        oauthError = error
      } else if (isDatabaseUnavailable(error)) {
        request.log.warn({ err: error }, 'database unavailable')
        reply.header('Retry-After', '5')
        oauthError = new TemporarilyUnavailable('The server cannot reach its database; try again shortly.')
      } else if (error.statusCode !== undefined && error.statusCode < 500) {
        oauthError = new InvalidRequest(
          error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'Send the parameters as application/x-www-form-urlencoded or application/json.'
            : 'The request body could not be read.',
        )
      } else {
        request.log.error({ err: error }, 'OAuth endpoint failed')
        oauthError = new OAuthError('server_error', 'The server could not complete the request.', 500)
      }
      if (oauthError instanceof InvalidClient && oauthError.usedBasic) reply.header('WWW-Authenticate', 'Basic realm="gatehouse", charset="UTF-8"')
      if (oauthError instanceof InvalidToken) reply.header('WWW-Authenticate', 'Bearer realm="gatehouse", error="invalid_token"')
      if (oauthError instanceof TooManyRequests) reply.header('Retry-After', String(oauthError.retryAfter))
      return reply.code(oauthError.status).send({ error: oauthError.error, error_description: oauthError.description })
    })

    if (ctx.config.clientRegistration !== 'off') registrationRoutes(scope, ctx)

    scope.post(ENDPOINTS.token, async (request) => {
      return handleTokenRequest(ctx, { params: bodyParams(request), authorization: request.headers.authorization, address: request.ip })
    })

    scope.post(ENDPOINTS.revocation, async (request, reply) => {
      const params = bodyParams(request)
      const { client } = await authenticateClient(ctx, clientCredentials(request, params))
      await revokeToken(ctx, client, params)
      return reply.code(200).send()
    })

    scope.post(ENDPOINTS.introspection, async (request) => {
      const params = bodyParams(request)
      const { client, method } = await authenticateClient(ctx, clientCredentials(request, params))
      if (method === 'none') throw new InvalidClient('Introspection needs client authentication.')
      return introspect(ctx, client, params)
    })
  })

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
    return reply.header('Cache-Control', 'public, max-age=300').send(authorizationServerMetadata(ctx, await resourceScopes(ctx.db)))
  })
  app.get('/.well-known/openid-configuration', async (_request, reply) => {
    return reply.header('Cache-Control', 'public, max-age=300').send(openIdConfiguration(ctx, await resourceScopes(ctx.db)))
  })

  const jwks = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.header('Cache-Control', 'public, max-age=300').send(await ctx.keyRing.jwks())
  app.get(ENDPOINTS.jwks, jwks)
  app.get('/.well-known/jwks.json', jwks)
}
