import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { canManageClient, clientOfTeam, clientsOfTeam, requireClientManager } from '../../clients/access.js'
import {
  deleteClient,
  mayOfferSkipConsent,
  regenerateClientSecret,
  registerClient,
  revealClientSecret,
  setSkipConsent,
  updateClient,
} from '../../clients/clients.js'
import { keepForOneView, takeOneView } from '../../accounts/portal-forms.js'
import { isRequestInspectionHost } from '../../clients/redirect-uris.js'
import type { Client } from '../../clients/types.js'
import type { ActivityAction } from '../../activity/types.js'
import type { AppContext } from '../../context.js'
import { Refusal, BANNERS, CONFIRMATIONS, type Confirmation } from '../../messages.js'
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
import { missingClient } from './not-in-team.js'
import { shownTime } from './format.js'
import { sendPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, formGuardProperties, idParamsSchema, requireTeamSession, type FormBody, type TeamSession } from './portal.js'

interface IdParams {
  id: string
}

interface SkipConsentBody extends FormBody {
  skip_consent: 'on' | 'off'
}

const skipConsentBodySchema = {
  type: 'object',
  properties: { skip_consent: { type: 'string', enum: ['on', 'off'] }, ...formGuardProperties },
  required: ['skip_consent'],
} as const

function clientView(client: Client) {
  return {
    id: client.id,
    name: client.name,
    isConfidential: client.isConfidential,
    redirectUris: client.redirectUris.map((uri) => ({ uri, warning: isRequestInspectionHost(uri) })),
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    backchannelLogoutUri: client.backchannelLogoutUri,
    /** Shown only where it may be on: the product's own apps with a secret. */
    skipConsent: mayOfferSkipConsent(client) ? { on: client.skipConsent } : undefined,
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
      form: options.form ?? clientFormView(client),
      secret: options.secret,
      banner: options.banner,
      hasInspectionHost: view.redirectUris.some((r) => r.warning),
      csrf: session.csrfToken,
    },
    status,
  )
}

function clientPath(id: string): string {
  return `/settings/clients/${encodeURIComponent(id)}`
}

/** A client of the active team, or the page that says where it is: another of the user's teams, deleted, or a plain 404. */
async function activeTeamClient(ctx: AppContext, session: TeamSession, id: string, returnTo = clientPath(id)): Promise<Client> {
  try {
    return await clientOfTeam(ctx.db, id, session.activeTeam.id)
  } catch (err) {
    if (err instanceof Refusal && err.code === 'client_not_found') return missingClient(ctx, session, id, returnTo)
    throw err
  }
}

/** A client of the active team that the user may change, or the error page that says why not. */
async function managedClient(ctx: AppContext, session: TeamSession, id: string, returnTo?: string): Promise<Client> {
  const client = await activeTeamClient(ctx, session, id, returnTo)
  requireClientManager(client, session.user, session.teams)
  return client
}

/** Changes to a client show in the team's activity log, with the app's name (never its secret). */
function recordClientEvent(ctx: AppContext, request: FastifyRequest, session: TeamSession, client: Client, action: ActivityAction): void {
  ctx.activity.record({ action, teamId: client.teamId, userId: session.user.id, clientId: client.id, detail: client.name, address: request.ip })
}

export function clientRoutes(app: FastifyInstance, ctx: AppContext): void {
  /** The client's page, showing the secret once: it is kept for that one view, never put in the URL. */
  async function secretShownAt(session: TeamSession, client: Client, secret: string): Promise<string> {
    const viewId = await keepForOneView(ctx.db, ctx.keys, session.id, client.id, secret, ctx.clock())
    return `/settings/clients/${encodeURIComponent(client.id)}?shown=${viewId}`
  }

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
      form: clientFormView({ name: '', redirectUris: [], postLogoutRedirectUris: [], backchannelLogoutUri: null }),
      csrf: session.csrfToken,
    })
  })

  app.post<{ Body: ClientFormBody }>('/settings/clients', { schema: { body: clientFormBodySchema } }, async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    checkSessionCsrf(ctx, session, request.body?._csrf)
    const input = readClientForm(request.body)
    return actOnce(ctx, reply, session, request.body, '/settings/clients', async () => {
      try {
        const { client } = await registerClient(ctx.db, ctx.keys, { ...input, ownerUserId: session.user.id, teamId: session.activeTeam.id }, ctx.clock())
        recordClientEvent(ctx, request, session, client, 'client.created')
        return '/settings/clients?done=created'
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
    })
  })

  // `?shown=` names a secret kept for one view by the POST that redirected here (reveal, regenerate).
  app.get<{ Params: IdParams; Querystring: { done?: string; shown?: string } }>(
    '/settings/clients/:id',
    {
      schema: {
        params: idParamsSchema,
        querystring: { type: 'object', properties: { done: { type: 'string', maxLength: 40 }, shown: { type: 'string', maxLength: 100 } } },
      },
    },
    async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      const client = await activeTeamClient(ctx, session, request.params.id)
      const shown = request.query.shown ? await takeOneView(ctx.db, ctx.keys, session.id, request.query.shown, ctx.clock()) : undefined
      const secret = shown?.subjectId === client.id ? shown.secret : undefined
      return clientPage(ctx, request, reply, session, client, { banner: doneBanner(BANNERS.clients, request.query.done), secret })
    },
  )

  app.post<{ Params: IdParams; Body: ClientFormBody }>(
    '/settings/clients/:id',
    { schema: { params: idParamsSchema, body: clientFormBodySchema } },
    async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      const client = await managedClient(ctx, session, request.params.id)
      const input = readClientForm(request.body)
      const clientPath = `/settings/clients/${encodeURIComponent(client.id)}`
      return actOnce(ctx, reply, session, request.body, clientPath, async () => {
        try {
          const updated = await updateClient(ctx.db, client, input, ctx.clock())
          recordClientEvent(ctx, request, session, updated, 'client.updated')
          return `${clientPath}?done=updated`
        } catch (err) {
          if (!isClientFormError(err)) throw err
          return clientPage(ctx, request, reply, session, client, { form: refusedClientFormView(input, err) }, 400)
        }
      })
    },
  )

  // A POST with the CSRF token, though it changes nothing: revealing is a
  // deliberate act, so no link, prefetch or history entry brings the secret on
  // screen. It redirects to the client's page, which shows the secret once.
  app.post<{ Params: IdParams; Body: FormBody }>(
    '/settings/clients/:id/secret',
    { schema: { params: idParamsSchema, body: csrfBodySchema } },
    async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      const client = await managedClient(ctx, session, request.params.id)
      const secret = await revealClientSecret(ctx.db, ctx.keys, client.id)
      if (secret === undefined) throw new Refusal('client_no_secret', 404)
      recordClientEvent(ctx, request, session, client, 'client.secret_revealed')
      return reply.redirect(await secretShownAt(session, client, secret), 303)
    },
  )

  // The product's own apps are created by the operator (gatehouse clients create --first-party), who names
  // their owner; that person and the team's owners, who may already change where the app's codes go, may
  // let users through without the consent page. Every change is in the team's activity log.
  app.post<{ Params: IdParams; Body: SkipConsentBody }>(
    '/settings/clients/:id/skip-consent',
    { schema: { params: idParamsSchema, body: skipConsentBodySchema } },
    async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      const client = await managedClient(ctx, session, request.params.id)
      const clientPath = `/settings/clients/${encodeURIComponent(client.id)}`
      return actOnce(ctx, reply, session, request.body, clientPath, async () => {
        const skip = request.body.skip_consent === 'on'
        const updated = await setSkipConsent(ctx.db, client, skip, ctx.clock())
        recordClientEvent(ctx, request, session, updated, skip ? 'client.skip_consent_enabled' : 'client.skip_consent_disabled')
        return `${clientPath}?done=${skip ? 'consent_skipped' : 'consent_shown'}`
      })
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
      /** Does it, and names the page to go to. */
      run: (client: Client, session: TeamSession) => Promise<string>
      event: ActivityAction
    },
  ): void {
    const path = `/settings/clients/:id/${action}`
    app.get<{ Params: IdParams }>(path, { schema: { params: idParamsSchema } }, async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      const client = await managedClient(ctx, session, request.params.id, request.url)
      options.applies?.(client)
      return sendPage(ctx, request, reply, 'confirm', {
        ...options.confirm,
        names: { name: client.name },
        action: `/settings/clients/${client.id}/${action}`,
        cancelHref: `/settings/clients/${client.id}`,
        csrf: session.csrfToken,
      })
    })

    app.post<{ Params: IdParams; Body: FormBody }>(path, { schema: { params: idParamsSchema, body: csrfBodySchema } }, async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      return actOnce(ctx, reply, session, request.body, '/settings/clients', async () => {
        const client = await managedClient(ctx, session, request.params.id)
        options.applies?.(client)
        const location = await options.run(client, session)
        recordClientEvent(ctx, request, session, client, options.event)
        return location
      })
    })
  }

  confirmedAction('regenerate', {
    applies: (client) => {
      if (!client.isConfidential) throw new Refusal('client_no_secret', 404)
    },
    confirm: CONFIRMATIONS.regenerateClientSecret,
    // The new secret is shown at once, on the page this redirects to.
    run: async (client, session) => {
      const secret = await regenerateClientSecret(ctx.db, ctx.keys, client.id, ctx.clock())
      return `${await secretShownAt(session, client, secret)}&done=regenerated`
    },
    event: 'client.secret_regenerated',
  })

  confirmedAction('delete', {
    confirm: CONFIRMATIONS.deleteClient,
    run: async (client) => {
      await deleteClient(ctx.db, client.id)
      return '/settings/clients?done=deleted'
    },
    event: 'client.deleted',
  })
}
