import { DEFAULT_ID_TOKEN_ALGORITHM } from '../../../keys/algorithms.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { clientsOfTeam } from '../../../clients/access.js'
import { registerClient } from '../../../clients/clients.js'
import type { AppContext } from '../../../context.js'
import { BANNERS } from '../../../messages.js'
import { sendTeamPage } from '../page.js'
import { actOnce, doneBanner } from '../portal.js'
import { teamSessionOf } from '../session-guard.js'
import {
  CLIENT_TYPES,
  clientFormBodySchema,
  clientFormView,
  isClientFormError,
  readClientForm,
  readClientType,
  refusedClientFormView,
  type ClientFormBody,
  type ClientType,
  type ClientFormView,
} from './form.js'
import { recordClientEvent, secretShownAt } from './team-client.js'
import { clientPath, clientView } from './view.js'

function newClientPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form: ClientFormView, clientType: ClientType, status = 200) {
  return sendTeamPage(ctx, request, reply, 'client-new', 'Create an API client', { form, clientTypes: CLIENT_TYPES, clientType }, status)
}

/** The team's API clients, and the form that registers a new one. */
export function clientListRoutes(pages: FastifyInstance, ctx: AppContext): void {
  pages.get<{ Querystring: { done?: string } }>('/settings/clients', async (request, reply) => {
    const clients = await clientsOfTeam(ctx.db, teamSessionOf(request).activeTeam.id)
    return sendTeamPage(ctx, request, reply, 'clients', 'API clients', {
      clients: clients.map(clientView),
      banner: doneBanner(BANNERS.clients, request.query.done),
    })
  })

  pages.get('/settings/clients/new', async (request, reply) =>
    newClientPage(
      ctx,
      request,
      reply,
      clientFormView(
        { name: '', redirectUris: [], postLogoutRedirectUris: [], backchannelLogoutUri: null, idTokenSignedResponseAlg: DEFAULT_ID_TOKEN_ALGORITHM },
        ctx.keyRing.idTokenAlgorithms(),
      ),
      'confidential',
    ),
  )

  pages.post<{ Body: ClientFormBody }>('/settings/clients', { schema: { body: clientFormBodySchema } }, async (request, reply) => {
    const session = teamSessionOf(request)
    const input = readClientForm(request.body, ctx.keyRing.idTokenAlgorithms())
    const clientType = readClientType(request.body)
    return actOnce(ctx, request, reply, '/settings/clients', async () => {
      try {
        const { client, secret } = await registerClient(
          ctx.db,
          ctx.keys,
          { ...input, isConfidential: clientType === 'confidential', ownerUserId: session.user.id, teamId: session.activeTeam.id },
          ctx.clock(),
        )
        recordClientEvent(ctx, request, session, client, 'client.created')
        // To the new client's page, where a secret is shown at once, as a new personal access token is.
        return secret === undefined ? `${clientPath(client.id)}?done=created` : `${await secretShownAt(ctx, session, client, secret)}&done=created`
      } catch (err) {
        if (!isClientFormError(err)) throw err
        return newClientPage(ctx, request, reply, refusedClientFormView(input, err, ctx.keyRing.idTokenAlgorithms()), clientType, 400)
      }
    })
  })
}
