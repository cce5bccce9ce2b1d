import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { authenticateClient, credentialsOf } from '../../oauth/client-authentication.js'
import { InvalidClient, InvalidRequest, OAuthError } from '../../protocol/errors.js'
import { resourceScopes } from '../../resources/resources.js'
import { registrationRoutes } from './registration.js'
import { introspect } from '../../oauth/introspection.js'
import { authorizationServerMetadata, ENDPOINTS, openIdConfiguration } from '../../oauth/metadata.js'
import type { RawParams } from '../../protocol/params.js'
import { revokeToken } from '../../oauth/revocation.js'
import { handleTokenRequest } from '../../oauth/token-endpoint.js'
import { startDeviceAuthorization } from '../../oauth/device/authorization.js'
import { endpoint, machineEndpoints } from './machine-endpoints.js'
import { countTokenRefusal, introspections, revocations } from '../../observability/metrics.js'

function bodyParams(request: FastifyRequest): RawParams {
  const body = request.body
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('The request body must be a set of parameters.')
  return body as RawParams
}

function clientCredentials(ctx: AppContext, request: FastifyRequest, params: RawParams, path: string) {
  return credentialsOf(params, { authorization: request.headers.authorization, address: request.ip, endpoint: ctx.config.issuer + path })
}

/** The machine-facing OAuth endpoints: JSON in RFC 6749 §5.2 shape, whatever goes wrong. */
export async function oauthEndpoints(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await machineEndpoints(app, (scope) => {
    endpoint(scope, ENDPOINTS.token, {
      POST: async (request) => {
        try {
          return await handleTokenRequest(ctx, {
            params: bodyParams(request),
            authorization: request.headers.authorization,
            address: request.ip,
            endpoint: ctx.config.issuer + ENDPOINTS.token,
          })
        } catch (err) {
          countTokenRefusal(err instanceof OAuthError ? err.error : 'server_error')
          throw err
        }
      },
    })

    if (ctx.config.clientRegistration !== 'off') registrationRoutes(scope, ctx)

    // RFC 8628 §3.1: public clients go by client_id alone, confidential ones authenticate as at the token endpoint.
    endpoint(scope, ENDPOINTS.deviceAuthorization, {
      POST: async (request) => {
        const params = bodyParams(request)
        const { client } = await authenticateClient(ctx, clientCredentials(ctx, request, params, ENDPOINTS.deviceAuthorization))
        return startDeviceAuthorization(ctx, client, params)
      },
    })

    endpoint(scope, ENDPOINTS.revocation, {
      POST: async (request, reply) => {
        try {
          const params = bodyParams(request)
          const { client } = await authenticateClient(ctx, clientCredentials(ctx, request, params, ENDPOINTS.revocation))
          await revokeToken(ctx, client, params)
        } catch (err) {
          revocations.refused.inc()
          throw err
        }
        revocations.revoked.inc()
        return reply.code(200).send()
      },
    })

    endpoint(scope, ENDPOINTS.introspection, {
      POST: async (request) => {
        let answer
        try {
          const params = bodyParams(request)
          const { client, method } = await authenticateClient(ctx, clientCredentials(ctx, request, params, ENDPOINTS.introspection))
          if (method === 'none') throw new InvalidClient('Introspection needs client authentication.')
          answer = await introspect(ctx, client, params)
        } catch (err) {
          introspections.refused.inc()
          throw err
        }
        ;(answer.active ? introspections.active : introspections.inactive).inc()
        return answer
      },
    })
  })

  const metadataFacts = async () => ({
    resourceScopes: await resourceScopes(ctx.db),
    signingAlgorithms: await ctx.keyRing.algorithms(),
    idTokenSigningAlgorithms: ctx.keyRing.idTokenAlgorithms(),
  })
  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
    return reply.header('Cache-Control', 'public, max-age=300').send(authorizationServerMetadata(ctx, await metadataFacts()))
  })
  app.get('/.well-known/openid-configuration', async (_request, reply) => {
    return reply.header('Cache-Control', 'public, max-age=300').send(openIdConfiguration(ctx, await metadataFacts()))
  })

  const jwks = async (_request: FastifyRequest, reply: FastifyReply) => reply.header('Cache-Control', 'public, max-age=300').send(await ctx.keyRing.jwks())
  app.get(ENDPOINTS.jwks, jwks)
  app.get('/.well-known/jwks.json', jwks)
}
