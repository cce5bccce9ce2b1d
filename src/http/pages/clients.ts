import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { canManageClient, clientOfTeam, clientsOfTeam, requireClientManager } from '../../clients/access.js'
import { deleteClient, regenerateClientSecret, registerClient, revealClientSecret, updateClient } from '../../clients/clients.js'
import { isRequestInspectionHost } from '../../clients/redirect-uris.js'
import type { Client } from '../../clients/types.js'
import type { ActivityAction } from '../../activity/types.js'
import type { AppContext } from '../../context.js'
import { AppError, BANNERS, CONFIRMATIONS, type Confirmation } from '../../messages.js'
import { checkSessionCsrf } from '../session.js'
import {
  clientFormBodySchema,
  clientFormView,
  isClientFormError,
  readClientForm,
  refusedClientFormView,
  type ClientFormBody,
  type ClientFormView,
} from './client-form.js'
import { shownTime } from './format.js'
import { sendPage } from './page.js'
import { csrfBodySchema, doneBanner, idParamsSchema, requireTeamSession, type TeamSession } from './portal.js'

interface IdParams {
  id: string
}

function clientView(client: Client) {
  return {
    id: client.id,
    name: client.name,
    isConfidential: client.isConfidential,
    redirectUris: client.redirectUris.map((uri) => ({ uri, warning: isRequestInspectionHost(uri) })),
    createdAt: shownTime(client.createdAt),
  }
}

interface ClientPageOptions {
  form?: ClientFormView
  secret?: string
  banner?: string
}

function clientPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: TeamSession,
  client: Client,
  options: ClientPageOptions,
  status = 200,
) {
  const view = clientView(client)
  return sendPage(
    ctx,
    request,
    reply,
    'client',
    {
      title: client.name,
      team: session.activeTeam,
      client: view,
      canManage: canManageClient(client, session.user, session.teams),
      form: options.form ?? clientFormView({ name: client.name, redirectUris: client.redirectUris }),
      secret: options.secret,
      banner: options.banner,
      hasInspectionHost: view.redirectUris.some((r) => r.warning),
      csrf: session.csrfToken,
    },
    status,
  )
}

/** A client of the active team that the user may change, or the error page that says why not. */
async function managedClient(ctx: AppContext, session: TeamSession, id: string): Promise<Client> {
  const client = await clientOfTeam(ctx.db, id, session.activeTeam.id)
  requireClientManager(client, session.user, session.teams)
  return client
}

/** Changes to a client show in the team's activity log, with the app's name (never its secret). */
function recordClientEvent(ctx: AppContext, request: FastifyRequest, session: TeamSession, client: Client, action: ActivityAction): void {
  ctx.activity.record({ action, teamId: client.teamId, userId: session.user.id, clientId: client.id, detail: client.name, address: request.ip })
}

export function clientRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: { done?: string } }>('/settings/clients', async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    const clients = await clientsOfTeam(ctx.db, session.activeTeam.id)
    return sendPage(ctx, request, reply, 'clients', {
      title: 'API clients',
      team: session.activeTeam,
      clients: clients.map(clientView),
      banner: doneBanner(BANNERS.clients, request.query.done),
    })
  })

  app.get('/settings/clients/new', async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    return sendPage(ctx, request, reply, 'client-new', {
      title: 'Create an API client',
      team: session.activeTeam,
      form: clientFormView({ name: '', redirectUris: [] }),
      csrf: session.csrfToken,
    })
  })

  app.post<{ Body: ClientFormBody }>('/settings/clients', { schema: { body: clientFormBodySchema } }, async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    checkSessionCsrf(ctx, session, request.body?._csrf)
    const input = readClientForm(request.body)
    try {
      const { client } = await registerClient(ctx.db, ctx.keys, { ...input, ownerUserId: session.user.id, teamId: session.activeTeam.id }, ctx.clock())
      recordClientEvent(ctx, request, session, client, 'client.created')
    } catch (err) {
      if (!isClientFormError(err)) throw err
      return sendPage(
        ctx,
        request,
        reply,
        'client-new',
        { title: 'Create an API client', team: session.activeTeam, form: refusedClientFormView(input, err), csrf: session.csrfToken },
        400,
      )
    }
    return reply.redirect('/settings/clients?done=created', 303)
  })

  app.get<{ Params: IdParams; Querystring: { done?: string } }>('/settings/clients/:id', { schema: { params: idParamsSchema } }, async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    const client = await clientOfTeam(ctx.db, request.params.id, session.activeTeam.id)
    return clientPage(ctx, request, reply, session, client, { banner: doneBanner(BANNERS.clients, request.query.done) })
  })

  app.post<{ Params: IdParams; Body: ClientFormBody }>(
    '/settings/clients/:id',
    { schema: { params: idParamsSchema, body: clientFormBodySchema } },
    async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      const client = await managedClient(ctx, session, request.params.id)
      const input = readClientForm(request.body)
      try {
        const updated = await updateClient(ctx.db, client.id, input.name, input.redirectUris, ctx.clock())
        recordClientEvent(ctx, request, session, updated, 'client.updated')
      } catch (err) {
        if (!isClientFormError(err)) throw err
        return clientPage(ctx, request, reply, session, client, { form: refusedClientFormView(input, err) }, 400)
      }
      return reply.redirect(`/settings/clients/${encodeURIComponent(client.id)}?done=updated`, 303)
    },
  )

  // A POST with the CSRF token, though it changes nothing: revealing is a
  // deliberate act, so no link, prefetch or history entry brings the secret on screen.
  app.post<{ Params: IdParams; Body: { _csrf?: string } }>(
    '/settings/clients/:id/secret',
    { schema: { params: idParamsSchema, body: csrfBodySchema } },
    async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      const client = await managedClient(ctx, session, request.params.id)
      const secret = await revealClientSecret(ctx.db, ctx.keys, client.id)
      if (secret === undefined) throw new AppError('client_no_secret', 404)
      recordClientEvent(ctx, request, session, client, 'client.secret_revealed')
      return clientPage(ctx, request, reply, session, client, { secret })
    },
  )

  /**
   * A destructive action on a client: a confirmation page on GET, the action
   * on a POST with the session's CSRF token, then a redirect to a banner.
   */
  function confirmedAction(
    action: string,
    options: {
      applies?: (client: Client) => void
      confirm: Confirmation
      run: (client: Client) => Promise<void>
      event: ActivityAction
      doneAt: (client: Client) => string
    },
  ): void {
    const path = `/settings/clients/:id/${action}`
    app.get<{ Params: IdParams }>(path, { schema: { params: idParamsSchema } }, async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      const client = await managedClient(ctx, session, request.params.id)
      options.applies?.(client)
      return sendPage(ctx, request, reply, 'confirm', {
        ...options.confirm,
        names: { name: client.name },
        action: `/settings/clients/${client.id}/${action}`,
        cancelHref: `/settings/clients/${client.id}`,
        csrf: session.csrfToken,
      })
    })

    app.post<{ Params: IdParams; Body: { _csrf?: string } }>(path, { schema: { params: idParamsSchema, body: csrfBodySchema } }, async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      const client = await managedClient(ctx, session, request.params.id)
      options.applies?.(client)
      await options.run(client)
      recordClientEvent(ctx, request, session, client, options.event)
      return reply.redirect(options.doneAt(client), 303)
    })
  }

  confirmedAction('regenerate', {
    applies: (client) => {
      if (!client.isConfidential) throw new AppError('client_no_secret', 404)
    },
    confirm: CONFIRMATIONS.regenerateClientSecret,
    run: async (client) => {
      await regenerateClientSecret(ctx.db, ctx.keys, client.id, ctx.clock())
    },
    event: 'client.secret_regenerated',
    doneAt: (client) => `/settings/clients/${encodeURIComponent(client.id)}?done=regenerated`,
  })

  confirmedAction('delete', {
    confirm: CONFIRMATIONS.deleteClient,
    run: (client) => deleteClient(ctx.db, client.id),
    event: 'client.deleted',
    doneAt: () => '/settings/clients?done=deleted',
  })
}
