import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { activityPage, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX } from '../../activity/list.js'
import type { AppContext } from '../../context.js'
import { findTeam } from '../../accounts/teams.js'
import { apiResourceMetadata, apiResourceMetadataUrl } from '../../resources/resources.js'
import { errorHandler, finishReadingBody, type Failure } from '../errors.js'
import { ApiError, isApiError } from './errors.js'
import { apiGuard } from './guard.js'
import { activityObject, teamObject, userObject } from './representations.js'

/*
 * The response schemas describe the API in its OpenAPI document, and Fastify
 * serializes with them: properties in the order the representations build
 * them, so the bytes on the wire are what they were before there were schemas.
 */

/** A strict object: every property required, nothing else. */
function strict<P extends Record<string, object>>(properties: P) {
  return { type: 'object', required: Object.keys(properties), additionalProperties: false, properties } as const
}

const userSchema = strict({
  object: { type: 'string', enum: ['user'] },
  id: { type: 'integer' },
  name: { type: 'string' },
  email: { type: 'string' },
  is_verified: { type: 'boolean' },
  is_disabled: { type: 'boolean' },
  is_service_account: { type: 'boolean' },
  created_at: { type: 'string' },
  updated_at: { type: 'string' },
})

const teamSchema = strict({
  object: { type: 'string', enum: ['team'] },
  id: { type: 'integer' },
  name: { type: 'string' },
  created_at: { type: 'string' },
})

const activitySchema = strict({
  object: { type: 'string', enum: ['activity'] },
  id: { type: 'integer' },
  action: { type: 'string' },
  user_id: { type: ['integer', 'null'] },
  client_id: { type: ['string', 'null'] },
  personal_access_token_id: { type: ['string', 'null'] },
  detail: { type: ['string', 'null'] },
  ip_address: { type: ['string', 'null'] },
  created_at: { type: 'string' },
})

const activityListSchema = strict({
  object: { type: 'string', enum: ['list'] },
  data: { type: 'array', items: activitySchema },
  has_more: { type: 'boolean' },
  next_cursor: { type: ['string', 'null'] },
})

const errorSchema = {
  description: 'What went wrong: a stable `error` code and a `message` for people.',
  ...strict({ error: { type: 'string' }, message: { type: 'string' } }),
}

const errors = { '4xx': errorSchema, '5xx': errorSchema } as const

/** RFC 8693 §4.1: a token exchanged for an app acting for the user names that actor in `act`. */
const meSchema = {
  ...userSchema,
  properties: { ...userSchema.properties, act: { type: 'object', additionalProperties: true } },
} as const

/** A body must be `application/json`, with no media type parameters, as the API has always required. */
function isExactJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.trim().toLowerCase() === 'application/json'
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length']
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined
}

const UNSUPPORTED_MEDIA_TYPE = 'Send request bodies as Content-Type: application/json, with no media type parameters.'

/** The API's renderer: `{ error, message }` JSON, whatever went wrong. */
function renderApiError(failure: Failure<ApiError>, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  switch (failure.kind) {
    case 'own':
      if (failure.error.challenge) reply.header('WWW-Authenticate', failure.error.challenge)
      return reply.code(failure.error.status).send({ error: failure.error.error, message: failure.error.message })
    case 'unavailable':
      return reply.code(503).send({ error: 'service_unavailable', message: 'The service cannot reach its database right now. Try again shortly.' })
    case 'rejected':
      if (failure.status === 415) return reply.code(415).send({ error: 'unsupported_media_type', message: UNSUPPORTED_MEDIA_TYPE })
      return reply.code(failure.status).send({ error: failure.validation ? 'invalid_request' : 'bad_request', message: failure.message })
    case 'failed':
      return reply.code(500).send({ error: 'server_error', message: 'Something went wrong on our side. Try again in a moment.' })
  }
}

/** The protected API under /api/v2; every answer, errors included, is JSON. */
export async function apiRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // RFC 9728 §3.1: the path is the resource's own path after the well-known prefix.
  app.get(new URL(apiResourceMetadataUrl(ctx.config.issuer)).pathname, async (_request, reply) =>
    reply.header('Cache-Control', 'public, max-age=300').send(apiResourceMetadata(ctx.config.issuer)),
  )

  await app.register(
    async (api) => {
      api.decorateRequest('principal', null)

      api.addHook('onRequest', async (request, reply) => {
        reply.header('Cache-Control', 'no-store')
        if (hasBody(request.headers) && !isExactJson(request.headers['content-type'])) {
          throw new ApiError(415, 'unsupported_media_type', UNSUPPORTED_MEDIA_TYPE)
        }
      })

      api.addHook('onResponse', (request, reply, done) => {
        const principal = request.principal
        if (!principal) return done()
        // Every call is attributed to the token's user. Calls are
        // counted per token and minute; a row each would be a write per call.
        ctx.usage.count(
          {
            tokenId: principal.tokenId,
            teamId: principal.teamId,
            userId: principal.user.id,
            clientId: principal.clientId,
            personalAccessTokenId: principal.personalAccessTokenId,
          },
          `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
          reply.statusCode,
        )
        done()
      })

      api.setErrorHandler(errorHandler(isApiError, renderApiError))

      api.setNotFoundHandler(async (request, reply) => {
        await finishReadingBody(request, reply)
        return reply.code(404).send({ error: 'not_found', message: `No API endpoint ${request.method} ${request.url.split('?')[0]}.` })
      })

      api.get(
        '/v2/me',
        { preHandler: apiGuard(ctx, 'read'), schema: { summary: 'The user the token acts for', tags: ['api'], response: { 200: meSchema, ...errors } } },
        async (request) => {
          const { user, act } = request.principal!
          return { ...userObject(user), ...(act && { act }) }
        },
      )

      api.get(
        '/v2/team',
        { preHandler: apiGuard(ctx, 'read'), schema: { summary: 'The team the token acts in', tags: ['api'], response: { 200: teamSchema, ...errors } } },
        async (request) => {
          const team = await findTeam(ctx.db, request.principal!.teamId)
          if (!team) throw new ApiError(404, 'not_found', 'The team of this token no longer exists.')
          return teamObject(team)
        },
      )

      api.get<{ Querystring: { cursor?: string; limit?: number; user_id?: number; client_id?: string; personal_access_token_id?: string } }>(
        '/v2/activities',
        {
          preHandler: apiGuard(ctx, 'read'),
          schema: {
            summary: "The team's activity log, newest first",
            tags: ['api'],
            response: { 200: activityListSchema, ...errors },
            querystring: {
              type: 'object',
              properties: {
                cursor: { type: 'string', pattern: '^[0-9]{1,15}$' },
                limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX },
                user_id: { type: 'integer', minimum: 1 },
                client_id: { type: 'string', maxLength: 100 },
                personal_access_token_id: { type: 'string', maxLength: 100 },
              },
            },
          },
        },
        async (request) => {
          const query = request.query
          const page = await activityPage(
            ctx.db,
            { teamId: request.principal!.teamId, userId: query.user_id, clientId: query.client_id, personalAccessTokenId: query.personal_access_token_id },
            query.cursor,
            query.limit ?? PAGE_SIZE_DEFAULT,
          )
          return { object: 'list', data: page.items.map(activityObject), has_more: page.nextCursor !== null, next_cursor: page.nextCursor }
        },
      )
    },
    { prefix: '/api' },
  )
}
