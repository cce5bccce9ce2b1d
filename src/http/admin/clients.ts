import type { FastifyInstance } from 'fastify'
import { requireUserById } from '../../accounts/users.js'
import {
  chooseIdTokenAlgorithm,
  clientsAfter,
  deleteClient,
  findClient,
  regenerateClientSecret,
  registerClient,
  setSkipConsent,
  updateClient,
} from '../../clients/clients.js'
import type { Client, ClientKind } from '../../clients/types.js'
import type { AppContext } from '../../context.js'
import { listMembershipsOfUser } from '../../db/teams.js'
import { idTokenAlgorithms } from '../../keys/algorithms.js'
import { Refusal } from '../../messages.js'
import { checkIfMatch, etagOf, sendWithEtag } from './etag.js'
import { recordAsAdmin } from './record.js'
import { clientJson, clientSchema, clientWithSecretSchema } from './representations.js'
import { idParam, listOf, listQuery, object, pageOf, params, problems } from './schemas.js'

const clientEtag = (client: Client) => etagOf('client', client.id, client.updatedAt)
const clientIdParams = params({ client_id: { type: 'string', minLength: 1, maxLength: 2000 } })
const uris = { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 2000 } } as const

interface ClientParams {
  client_id: string
}

interface ClientChangesBody {
  name?: string
  redirect_uris?: string[]
  post_logout_redirect_uris?: string[]
  backchannel_logout_uri?: string | null
  id_token_signed_response_alg?: string
  skip_consent?: boolean
}

async function requireClient(ctx: AppContext, id: string): Promise<Client> {
  const client = await findClient(ctx.db, id)
  if (!client) throw new Refusal('client_not_found', 404)
  return client
}

/** Clients of every kind: registered by people, registered themselves (RFC 7591), or known by a metadata document. */
export function clientRoutes(admin: FastifyInstance, ctx: AppContext): void {
  admin.get<{ Querystring: { cursor?: string; limit: number; team_id?: number; owner_id?: number; kind?: ClientKind } }>(
    '/clients',
    {
      schema: {
        summary: 'List clients',
        tags: ['clients'],
        querystring: listQuery({
          team_id: idParam,
          owner_id: idParam,
          kind: { type: 'string', enum: ['registered', 'dynamic', 'metadata_document'] },
        }),
        response: { 200: listOf(clientSchema), ...problems },
      },
    },
    async (request) => {
      const { cursor, limit, team_id: teamId, owner_id: ownerUserId, kind } = request.query
      const clients = await clientsAfter(ctx.db, { afterId: cursor, limit: limit + 1, teamId, ownerUserId, kind })
      return pageOf(clients, limit, (c) => c.id, clientJson)
    },
  )

  admin.post<{
    Body: {
      name: string
      owner_id: number
      team_id?: number
      redirect_uris: string[]
      confidential?: boolean
      first_party?: boolean
      skip_consent?: boolean
      post_logout_redirect_uris?: string[]
      backchannel_logout_uri?: string
      id_token_signed_response_alg?: string
    }
  }>(
    '/clients',
    {
      schema: {
        summary: 'Register a client',
        description: 'The Client secret of a confidential client is in this answer only.',
        tags: ['clients'],
        body: object(
          {
            name: { type: 'string', maxLength: 200 },
            owner_id: { ...idParam, description: 'The user who owns the client.' },
            team_id: { ...idParam, description: "One of the owner's teams (default: their first)." },
            redirect_uris: { ...uris, minItems: 1 },
            confidential: { type: 'boolean', default: true, description: 'False for a public client (no secret, PKCE required).' },
            first_party: { type: 'boolean', default: false },
            skip_consent: { type: 'boolean', default: false },
            post_logout_redirect_uris: uris,
            backchannel_logout_uri: { type: 'string', maxLength: 2000 },
            id_token_signed_response_alg: { type: 'string', maxLength: 10 },
          },
          ['team_id', 'confidential', 'first_party', 'skip_consent', 'post_logout_redirect_uris', 'backchannel_logout_uri', 'id_token_signed_response_alg'],
        ),
        response: { 201: clientWithSecretSchema, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body
      const owner = await requireUserById(ctx.db, body.owner_id)
      const memberships = await listMembershipsOfUser(ctx.db.kysely, owner.id)
      const membership = body.team_id === undefined ? memberships[0] : memberships.find((m) => m.team.id === body.team_id)
      if (!membership) throw new Refusal(body.team_id === undefined ? 'no_active_team' : 'user_not_member', 400)
      const { client, secret } = await registerClient(
        ctx.db,
        ctx.keys,
        {
          name: body.name,
          redirectUris: body.redirect_uris,
          ownerUserId: owner.id,
          teamId: membership.team.id,
          isConfidential: body.confidential !== false,
          isFirstParty: body.first_party === true,
          skipConsent: body.skip_consent === true,
          postLogoutRedirectUris: body.post_logout_redirect_uris ?? [],
          backchannelLogoutUri: body.backchannel_logout_uri,
          idTokenSignedResponseAlg: chooseIdTokenAlgorithm(body.id_token_signed_response_alg, idTokenAlgorithms(ctx.config.signingAlg)),
          byOperator: true,
        },
        ctx.clock(),
      )
      recordAsAdmin(ctx, request, [{ action: 'client.created', teamId: client.teamId, clientId: client.id, detail: client.name }])
      reply.code(201).header('Location', `${request.url.split('?')[0]}/${encodeURIComponent(client.id)}`)
      return sendWithEtag(reply, clientEtag(client), { ...clientJson(client), ...(secret === undefined ? {} : { client_secret: secret }) })
    },
  )

  admin.get<{ Params: ClientParams }>(
    '/clients/:client_id',
    { schema: { summary: 'Get a client', tags: ['clients'], params: clientIdParams, response: { 200: clientSchema, ...problems } } },
    async (request, reply) => {
      const client = await requireClient(ctx, request.params.client_id)
      return sendWithEtag(reply, clientEtag(client), clientJson(client))
    },
  )

  admin.patch<{ Params: ClientParams; Body: ClientChangesBody }>(
    '/clients/:client_id',
    {
      schema: {
        summary: 'Change a client',
        description:
          'Only the fields sent change. Send If-Match with the ETag of the client as read: a client changed since is refused with 412. Without If-Match, the last write wins.',
        tags: ['clients'],
        params: clientIdParams,
        body: object(
          {
            name: { type: 'string', maxLength: 200 },
            redirect_uris: { ...uris, minItems: 1 },
            post_logout_redirect_uris: uris,
            backchannel_logout_uri: { type: ['string', 'null'], maxLength: 2000 },
            id_token_signed_response_alg: { type: 'string', maxLength: 10 },
            skip_consent: { type: 'boolean' },
          },
          ['name', 'redirect_uris', 'post_logout_redirect_uris', 'backchannel_logout_uri', 'id_token_signed_response_alg', 'skip_consent'],
        ),
        response: { 200: clientSchema, ...problems },
      },
    },
    async (request, reply) => {
      let client = await requireClient(ctx, request.params.client_id)
      checkIfMatch(request, clientEtag(client))
      const body = request.body
      const idTokenSignedResponseAlg =
        body.id_token_signed_response_alg === undefined
          ? client.idTokenSignedResponseAlg
          : chooseIdTokenAlgorithm(body.id_token_signed_response_alg, idTokenAlgorithms(ctx.config.signingAlg))
      const now = ctx.clock()
      if (body.skip_consent === false && client.skipConsent) client = await setSkipConsent(ctx.db, client, false, now)
      client = await updateClient(
        ctx.db,
        client,
        {
          name: body.name ?? client.name,
          redirectUris: body.redirect_uris ?? client.redirectUris,
          postLogoutRedirectUris: body.post_logout_redirect_uris ?? client.postLogoutRedirectUris,
          backchannelLogoutUri: body.backchannel_logout_uri === undefined ? client.backchannelLogoutUri : body.backchannel_logout_uri,
          idTokenSignedResponseAlg,
        },
        now,
      )
      if (body.skip_consent === true && !client.skipConsent) client = await setSkipConsent(ctx.db, client, true, now)
      recordAsAdmin(ctx, request, [{ action: 'client.updated', teamId: client.teamId, clientId: client.id, detail: client.name }])
      return sendWithEtag(reply, clientEtag(client), clientJson(client))
    },
  )

  admin.delete<{ Params: ClientParams }>(
    '/clients/:client_id',
    {
      schema: {
        summary: 'Delete a client',
        description: 'Every code and token it holds stops working at once.',
        tags: ['clients'],
        params: clientIdParams,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problems },
      },
    },
    async (request, reply) => {
      const client = await requireClient(ctx, request.params.client_id)
      await deleteClient(ctx.db, client.id)
      recordAsAdmin(ctx, request, [{ action: 'client.deleted', teamId: client.teamId, clientId: client.id, detail: client.name }])
      return reply.code(204).send()
    },
  )

  admin.post<{ Params: ClientParams }>(
    '/clients/:client_id/secret',
    {
      schema: {
        summary: "Regenerate a client's secret",
        description: 'The old secret stops working at once; the new one is in this answer only.',
        tags: ['clients'],
        params: clientIdParams,
        response: {
          200: object({ object: { type: 'string', enum: ['client_secret'] }, client_id: { type: 'string' }, client_secret: { type: 'string' } }),
          ...problems,
        },
      },
    },
    async (request) => {
      const client = await requireClient(ctx, request.params.client_id)
      if (!client.isConfidential) throw new Refusal('client_no_secret', 409)
      const secret = await regenerateClientSecret(ctx.db, ctx.keys, client.id, ctx.clock())
      recordAsAdmin(ctx, request, [{ action: 'client.secret_regenerated', teamId: client.teamId, clientId: client.id, detail: client.name }])
      return { object: 'client_secret' as const, client_id: client.id, client_secret: secret }
    },
  )
}
