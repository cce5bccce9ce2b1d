import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { keepForOneView, takeOneView } from '../../accounts/portal-forms.js'
import type { AppContext } from '../../context.js'
import { BANNERS, Refusal } from '../../messages.js'
import { WEBHOOK_EVENTS } from '../../webhooks/events.js'
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  resendWebhookDelivery,
  updateWebhookEndpoint,
} from '../../webhooks/endpoints.js'
import type { WebhookDelivery, WebhookEndpoint } from '../../webhooks/types.js'
import { shownTime } from './format.js'
import { sendTeamPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, formGuardProperties, idParamsSchema, type FormBody } from './portal.js'
import { teamPages, teamSessionOf, type TeamSession } from './session-guard.js'

/** Deliveries shown on an endpoint's page. */
const LOG_LENGTH = 50

interface CreateBody extends FormBody {
  url?: string
  events?: string | string[]
}

const createBodySchema = {
  type: 'object',
  properties: {
    url: { type: 'string', maxLength: 4096 },
    events: {
      anyOf: [
        { type: 'string', maxLength: 100 },
        { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 100 } },
      ],
    },
    ...formGuardProperties,
  },
} as const

const deliveryParamsSchema = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 }, delivery: { type: 'string', minLength: 1, maxLength: 200 } },
  required: ['id', 'delivery'],
} as const

/** Endpoints send what a team does to another system: only its owners manage them. */
function requireOwner(session: TeamSession): number {
  const role = session.teams.find((m) => m.team.id === session.activeTeam.id)?.role
  if (role !== 'owner') throw new Refusal('owner_only', 403)
  return session.activeTeam.id
}

function endpointView(endpoint: WebhookEndpoint) {
  return { ...endpoint, createdAt: shownTime(endpoint.createdAt), disabledAt: shownTime(endpoint.disabledAt) }
}

function deliveryView(delivery: WebhookDelivery) {
  return { ...delivery, createdAt: shownTime(delivery.createdAt, 'seconds'), lastAttemptAt: shownTime(delivery.lastAttemptAt, 'seconds') }
}

function listPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form: { url: string; events: string[]; error?: string }, status = 200) {
  const teamId = requireOwner(teamSessionOf(request))
  return listWebhookEndpoints(ctx, teamId).then((endpoints) =>
    sendTeamPage(
      ctx,
      request,
      reply,
      'webhooks',
      'Webhooks',
      {
        endpoints: endpoints.map(endpointView),
        allEvents: WEBHOOK_EVENTS,
        form,
        banner: doneBanner(BANNERS.webhooks, (request.query as { done?: string } | undefined)?.done),
      },
      status,
    ),
  )
}

export function webhookRoutes(app: FastifyInstance, ctx: AppContext): void {
  teamPages(app, ctx, (pages) => {
    pages.get('/team/webhooks', async (request, reply) => listPage(ctx, request, reply, { url: '', events: [] }))

    // Post/Redirect/Get: the secret is kept, encrypted, for the one view of the page this redirects to.
    pages.post<{ Body: CreateBody }>('/team/webhooks', { schema: { body: createBodySchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const teamId = requireOwner(session)
      const url = request.body?.url ?? ''
      const events = request.body?.events ?? []
      return actOnce(ctx, request, reply, '/team/webhooks', async () => {
        let created
        try {
          created = await createWebhookEndpoint(ctx, teamId, { url, events })
        } catch (err) {
          if (!(err instanceof Refusal) || !err.code.startsWith('webhook_')) throw err
          return listPage(ctx, request, reply, { url, events: typeof events === 'string' ? [events] : events, error: err.message }, 400)
        }
        const viewId = await keepForOneView(ctx.db, ctx.keys, session.id, created.endpoint.id, created.secret, ctx.clock())
        return `/team/webhooks/created/${viewId}`
      })
    })

    pages.get<{ Params: { id: string } }>('/team/webhooks/created/:id', { schema: { params: idParamsSchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const teamId = requireOwner(session)
      const shown = await takeOneView(ctx.db, ctx.keys, session.id, request.params.id, ctx.clock())
      if (!shown) return sendTeamPage(ctx, request, reply, 'webhook-gone', 'Secret no longer shown', {}, 410)
      const endpoint = await getWebhookEndpoint(ctx, teamId, shown.subjectId)
      return sendTeamPage(ctx, request, reply, 'webhook-created', 'Endpoint added', { endpoint: endpointView(endpoint), secret: shown.secret })
    })

    pages.get<{ Params: { id: string }; Querystring: { done?: string } }>(
      '/team/webhooks/:id',
      { schema: { params: idParamsSchema } },
      async (request, reply) => {
        const teamId = requireOwner(teamSessionOf(request))
        const endpoint = await getWebhookEndpoint(ctx, teamId, request.params.id)
        const deliveries = await listWebhookDeliveries(ctx, teamId, endpoint.id, { limit: LOG_LENGTH })
        return sendTeamPage(ctx, request, reply, 'webhook', 'Webhook endpoint', {
          endpoint: endpointView(endpoint),
          deliveries: deliveries.map(deliveryView),
          banner: doneBanner(BANNERS.webhooks, request.query.done),
        })
      },
    )

    pages.post<{ Params: { id: string; delivery: string }; Body: FormBody }>(
      '/team/webhooks/:id/deliveries/:delivery/resend',
      { schema: { params: deliveryParamsSchema, body: csrfBodySchema } },
      async (request, reply) => {
        const teamId = requireOwner(teamSessionOf(request))
        const back = `/team/webhooks/${encodeURIComponent(request.params.id)}`
        return actOnce(ctx, request, reply, back, async () => {
          await resendWebhookDelivery(ctx, teamId, request.params.id, request.params.delivery)
          return `${back}?done=resent`
        })
      },
    )

    pages.post<{ Params: { id: string }; Body: FormBody }>(
      '/team/webhooks/:id/enable',
      { schema: { params: idParamsSchema, body: csrfBodySchema } },
      async (request, reply) => {
        const teamId = requireOwner(teamSessionOf(request))
        const back = `/team/webhooks/${encodeURIComponent(request.params.id)}`
        return actOnce(ctx, request, reply, back, async () => {
          await updateWebhookEndpoint(ctx, teamId, request.params.id, { enabled: true })
          return `${back}?done=enabled`
        })
      },
    )

    pages.post<{ Params: { id: string }; Body: FormBody }>(
      '/team/webhooks/:id/delete',
      { schema: { params: idParamsSchema, body: csrfBodySchema } },
      async (request, reply) => {
        const teamId = requireOwner(teamSessionOf(request))
        return actOnce(ctx, request, reply, '/team/webhooks', async () => {
          await deleteWebhookEndpoint(ctx, teamId, request.params.id)
          return '/team/webhooks?done=deleted'
        })
      },
    )
  })
}
