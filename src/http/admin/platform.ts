import type { FastifyInstance } from 'fastify'
import { activityPage } from '../../activity/list.js'
import { createRegistrationToken } from '../../clients/registration/initial-tokens.js'
import type { AppContext } from '../../context.js'
import { publishedSigningKeys, rotateSigningKey } from '../../keys/signing-keys.js'
import { createResource, deleteResource, listResources } from '../../resources/resources.js'
import { activityJson, activitySchema, resourceJson, resourceSchema } from './representations.js'
import { idParam, listOf, listQuery, nullableTimestamp, numericCursor, object, pageAfter, params, problems, timestamp } from './schemas.js'

const signingKeySchema = object({
  object: { type: 'string', enum: ['signing_key'] },
  kid: { type: 'string' },
  alg: { type: 'string' },
  created_at: timestamp,
  retired_at: nullableTimestamp,
})

/** What the whole server shares: resources, registration tokens, signing keys and the activity log. */
export function platformRoutes(admin: FastifyInstance, ctx: AppContext): void {
  const issuer = () => ctx.config.issuer

  admin.get<{ Querystring: { cursor?: string; limit: number } }>(
    '/resources',
    {
      schema: {
        summary: 'List resources',
        description: "The services access tokens may be issued for (RFC 8707), Gatehouse's own API first among them.",
        tags: ['resources'],
        querystring: listQuery(),
        response: { 200: listOf(resourceSchema), ...problems },
      },
    },
    async (request) => pageAfter(await listResources(ctx.db, issuer()), request.query.cursor, request.query.limit, (r) => r.uri, resourceJson),
  )

  admin.post<{ Body: { uri: string; name: string; scopes?: string[] } }>(
    '/resources',
    {
      schema: {
        summary: 'Register a resource',
        tags: ['resources'],
        body: object(
          {
            uri: { type: 'string', maxLength: 2000 },
            name: { type: 'string', maxLength: 200 },
            scopes: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 200 } },
          },
          ['scopes'],
        ),
        response: { 201: resourceSchema, ...problems },
      },
    },
    async (request, reply) => {
      const resource = await createResource(
        ctx.db,
        issuer(),
        { uri: request.body.uri, name: request.body.name, scopes: request.body.scopes ?? [] },
        ctx.clock(),
      )
      reply.code(201).header('Location', `${request.url.split('?')[0]}/${encodeURIComponent(resource.uri)}`)
      return resourceJson(resource)
    },
  )

  admin.delete<{ Params: { uri: string } }>(
    '/resources/:uri',
    {
      schema: {
        summary: 'Delete a resource',
        description: 'The URI percent-encoded as one path segment. No new token is issued for it.',
        tags: ['resources'],
        params: params({ uri: { type: 'string', minLength: 1, maxLength: 2000 } }),
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problems },
      },
    },
    async (request, reply) => {
      await deleteResource(ctx.db, issuer(), request.params.uri)
      return reply.code(204).send()
    },
  )

  admin.post<{ Body: { expires_in?: number } }>(
    '/registration-tokens',
    {
      schema: {
        summary: 'Make an initial access token for client registration',
        description: 'For GATEHOUSE_CLIENT_REGISTRATION=token (RFC 7591 §3). The token is in this answer only; it is stored as a hash and cannot be listed.',
        tags: ['registration tokens'],
        body: object({ expires_in: { type: 'integer', default: 86400, description: 'Seconds, 60 to 366 days.' } }, ['expires_in']),
        response: {
          201: object({ object: { type: 'string', enum: ['registration_token'] }, registration_token: { type: 'string' }, expires_at: timestamp }),
          ...problems,
        },
      },
    },
    async (request, reply) => {
      const { token, expiresAt } = await createRegistrationToken(ctx.db, request.body?.expires_in ?? 86_400, ctx.clock())
      reply.code(201)
      return { object: 'registration_token' as const, registration_token: token, expires_at: expiresAt.toISOString() }
    },
  )

  admin.get<{ Querystring: { cursor?: string; limit: number } }>(
    '/signing-keys',
    {
      schema: {
        summary: 'List signing keys',
        description: 'The keys that sign tokens now, and retired keys still published while tokens they signed may live.',
        tags: ['signing keys'],
        querystring: listQuery(),
        response: { 200: listOf(signingKeySchema), ...problems },
      },
    },
    async (request) =>
      pageAfter(
        await publishedSigningKeys(ctx.db, ctx.config, ctx.clock()),
        request.query.cursor,
        request.query.limit,
        (k) => k.kid,
        (k) => ({
          object: 'signing_key' as const,
          kid: k.kid,
          alg: k.alg,
          created_at: k.createdAt.toISOString(),
          retired_at: k.retiredAt?.toISOString() ?? null,
        }),
      ),
  )

  admin.post(
    '/signing-keys/rotate',
    {
      schema: {
        summary: 'Rotate the signing keys',
        description: 'New keys sign from now on; older keys stay published until the tokens they signed expire.',
        tags: ['signing keys'],
        response: { 200: object({ object: { type: 'string', enum: ['rotation'] }, kid: { type: 'string' } }), ...problems },
      },
    },
    async () => ({ object: 'rotation' as const, kid: await rotateSigningKey(ctx.db, ctx.keys.encryption, ctx.config.signingAlg, ctx.clock()) }),
  )

  admin.get<{
    Querystring: { cursor?: string; limit: number; team_id?: number; user_id?: number; client_id?: string; action?: string; admin_token_id?: string }
  }>(
    '/activity',
    {
      schema: {
        summary: 'List the activity log',
        description: 'Newest first, across every team; admin API calls are `admin.request` entries naming the admin token.',
        tags: ['activity'],
        querystring: listQuery({
          team_id: idParam,
          user_id: idParam,
          client_id: { type: 'string', maxLength: 2000 },
          action: { type: 'string', maxLength: 100 },
          admin_token_id: { type: 'string', maxLength: 100 },
        }),
        response: { 200: listOf(activitySchema), ...problems },
      },
    },
    async (request) => {
      const q = request.query
      numericCursor(q.cursor)
      const page = await activityPage(
        ctx.db,
        { teamId: q.team_id, userId: q.user_id, clientId: q.client_id, action: q.action, adminTokenId: q.admin_token_id },
        q.cursor,
        q.limit,
      )
      return { object: 'list' as const, data: page.items.map(activityJson), has_more: page.nextCursor !== null, next_cursor: page.nextCursor }
    },
  )
}
