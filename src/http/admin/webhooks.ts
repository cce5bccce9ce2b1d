import type { FastifyInstance } from 'fastify'
import { requireTeam } from '../../accounts/teams.js'
import type { AppContext } from '../../context.js'
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  resendWebhookDelivery,
  updateWebhookEndpoint,
} from '../../webhooks/endpoints.js'
import { WEBHOOK_EVENTS } from '../../webhooks/events.js'
import type { WebhookEndpoint } from '../../webhooks/types.js'
import { checkIfMatch, etagOf, sendWithEtag } from './etag.js'
import { recordAsAdmin } from './record.js'
import { webhookDeliveryJson, webhookDeliverySchema, webhookEndpointJson, webhookEndpointSchema, webhookEndpointWithSecretSchema } from './representations.js'
import { idParam, listOf, listQuery, numericCursor, object, pageAfter, pageOf, params, problems } from './schemas.js'

const endpointEtag = (endpoint: WebhookEndpoint) => etagOf('webhook', endpoint.id, endpoint.updatedAt)
const idText = { type: 'string', minLength: 1, maxLength: 100 } as const
const endpointParams = params({ id: idText })
const deliveryParams = params({ id: idText, delivery_id: idText })
const url = { type: 'string', maxLength: 2000, description: 'https on a public address, or a host in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS.' } as const
// Events are checked by the domain, so that an unknown one is named in a webhook_event_unknown problem.
const events = {
  type: 'array',
  minItems: 1,
  maxItems: WEBHOOK_EVENTS.length,
  items: { type: 'string', maxLength: 100 },
  description: `Any of: ${WEBHOOK_EVENTS.join(', ')}.`,
} as const

interface EndpointParams {
  id: string
}

/**
 * Webhook endpoints of every team, as the operator sees them: the same
 * functions as the team's page, with no team, so every team's endpoints.
 */
export function webhookRoutes(admin: FastifyInstance, ctx: AppContext): void {
  admin.get<{ Querystring: { cursor?: string; limit: number; team_id?: number } }>(
    '/webhooks',
    {
      schema: {
        summary: 'List webhook endpoints',
        tags: ['webhooks'],
        querystring: listQuery({ team_id: idParam }),
        response: { 200: listOf(webhookEndpointSchema), ...problems },
      },
    },
    async (request) => {
      const { cursor, limit, team_id: teamId } = request.query
      return pageAfter(await listWebhookEndpoints(ctx, teamId), cursor, limit, (e) => e.id, webhookEndpointJson)
    },
  )

  admin.post<{ Body: { team_id: number; url: string; events: string[] } }>(
    '/webhooks',
    {
      schema: {
        summary: 'Add a webhook endpoint to a team',
        description: 'The signing secret is in this answer only.',
        tags: ['webhooks'],
        body: object({ team_id: idParam, url, events }),
        response: { 201: webhookEndpointWithSecretSchema, ...problems },
      },
    },
    async (request, reply) => {
      const team = await requireTeam(ctx.db, request.body.team_id)
      const { endpoint, secret } = await createWebhookEndpoint(ctx, team.id, { url: request.body.url, events: request.body.events })
      recordAsAdmin(ctx, request, [{ action: 'webhook.created', teamId: team.id, detail: `${endpoint.id} ${endpoint.url}` }])
      reply.code(201).header('Location', `${request.url.split('?')[0]}/${encodeURIComponent(endpoint.id)}`)
      return sendWithEtag(reply, endpointEtag(endpoint), { ...webhookEndpointJson(endpoint), secret })
    },
  )

  admin.get<{ Params: EndpointParams }>(
    '/webhooks/:id',
    {
      schema: { summary: 'Get a webhook endpoint', tags: ['webhooks'], params: endpointParams, response: { 200: webhookEndpointSchema, ...problems } },
    },
    async (request, reply) => {
      const endpoint = await getWebhookEndpoint(ctx, undefined, request.params.id)
      return sendWithEtag(reply, endpointEtag(endpoint), webhookEndpointJson(endpoint))
    },
  )

  admin.patch<{ Params: EndpointParams; Body: { url?: string; events?: string[]; enabled?: boolean } }>(
    '/webhooks/:id',
    {
      schema: {
        summary: 'Change a webhook endpoint',
        description:
          'Only the fields sent change; `enabled: true` turns on an endpoint that was disabled after failing. Send If-Match with the ETag of the endpoint as read: one changed since is refused with 412. Without If-Match, the last write wins.',
        tags: ['webhooks'],
        params: endpointParams,
        body: object({ url, events, enabled: { type: 'boolean' } }, ['url', 'events', 'enabled']),
        response: { 200: webhookEndpointSchema, ...problems },
      },
    },
    async (request, reply) => {
      const current = await getWebhookEndpoint(ctx, undefined, request.params.id)
      checkIfMatch(request, endpointEtag(current))
      const endpoint = await updateWebhookEndpoint(ctx, undefined, current.id, request.body)
      recordAsAdmin(ctx, request, [{ action: 'webhook.updated', teamId: endpoint.teamId, detail: `${endpoint.id} ${endpoint.url}` }])
      return sendWithEtag(reply, endpointEtag(endpoint), webhookEndpointJson(endpoint))
    },
  )

  admin.delete<{ Params: EndpointParams }>(
    '/webhooks/:id',
    {
      schema: {
        summary: 'Delete a webhook endpoint',
        description: 'Its delivery log goes with it; deliveries still waiting are not sent.',
        tags: ['webhooks'],
        params: endpointParams,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problems },
      },
    },
    async (request, reply) => {
      const endpoint = await getWebhookEndpoint(ctx, undefined, request.params.id)
      await deleteWebhookEndpoint(ctx, undefined, endpoint.id)
      recordAsAdmin(ctx, request, [{ action: 'webhook.deleted', teamId: endpoint.teamId, detail: `${endpoint.id} ${endpoint.url}` }])
      return reply.code(204).send()
    },
  )

  admin.get<{ Params: EndpointParams; Querystring: { cursor?: string; limit: number } }>(
    '/webhooks/:id/deliveries',
    {
      schema: {
        summary: "List a webhook endpoint's deliveries",
        description: 'Newest first: what was sent, its status, attempts and latency.',
        tags: ['webhooks'],
        params: endpointParams,
        querystring: listQuery(),
        response: { 200: listOf(webhookDeliverySchema), ...problems },
      },
    },
    async (request) => {
      const { cursor, limit } = request.query
      const before = numericCursor(cursor)
      const deliveries = await listWebhookDeliveries(ctx, undefined, request.params.id, {
        limit: limit + 1,
        before: before === undefined ? undefined : new Date(before),
      })
      return pageOf(deliveries, limit, (d) => String(d.createdAt.getTime()), webhookDeliveryJson)
    },
  )

  admin.post<{ Params: EndpointParams & { delivery_id: string } }>(
    '/webhooks/:id/deliveries/:delivery_id/resend',
    {
      schema: {
        summary: 'Send a delivery again',
        description: 'Queued with the same webhook-id, so a receiver that saw it drops the repeat. A delivery already waiting is refused with 409.',
        tags: ['webhooks'],
        params: deliveryParams,
        response: { 202: webhookDeliverySchema, ...problems },
      },
    },
    async (request, reply) => {
      const { id, delivery_id: deliveryId } = request.params
      const endpoint = await getWebhookEndpoint(ctx, undefined, id)
      const delivery = await resendWebhookDelivery(ctx, undefined, endpoint.id, deliveryId)
      recordAsAdmin(ctx, request, [{ action: 'webhook.delivery_resent', teamId: endpoint.teamId, detail: `${endpoint.id} ${delivery.id}` }])
      return reply.code(202).send(webhookDeliveryJson(delivery))
    },
  )
}
