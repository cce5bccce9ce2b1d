import { DEFAULT_ID_TOKEN_ALGORITHM } from '../../../keys/algorithms.js'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { clientsOfTeam } from '../../../clients/access.js'
import { registerClient } from '../../../clients/clients.js'
import type { AppContext } from '../../../context.js'
import { roleIn } from '../../../accounts/members.js'
import { keysRefusal, parsePublicKeys } from '../../../clients/client-keys.js'
import { BANNERS, Refusal } from '../../../messages.js'
import { sendTeamPage } from '../page.js'
import { actOnce, doneBanner } from '../portal.js'
import { teamSessionOf } from '../session-guard.js'
import {
  clientFormBodySchema,
  clientFormView,
  isClientFormError,
  readClientForm,
  refusedClientFormView,
  type ClientFormBody,
  type ClientFormView,
} from './form.js'
import { recordClientEvent, secretShownAt } from './team-client.js'
import { clientPath, clientView } from './view.js'

function newClientPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form: ClientFormView, status = 200) {
  return sendTeamPage(ctx, request, reply, 'client-new', 'Create an API client', { form }, status)
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
    ),
  )

  pages.post<{ Body: ClientFormBody }>('/settings/clients', { schema: { body: clientFormBodySchema } }, async (request, reply) => {
    const session = teamSessionOf(request)
    const input = readClientForm(request.body, ctx.keyRing.idTokenAlgorithms())
    return actOnce(ctx, request, reply, '/settings/clients', async () => {
      try {
        const isService = input.kind === 'service'
        // A service client acts in the team on its own: only an owner may add one.
        if (isService && (await roleIn(ctx.db.kysely, session.activeTeam.id, session.user.id)) !== 'owner') throw new Refusal('owner_only', 403)
        const isConfidential = input.kind !== 'public'
        const method = !isConfidential || input.authMethod === 'client_secret' ? null : input.authMethod
        const jwks = method === 'private_key_jwt' && input.publicKey.trim() !== '' ? await parsePublicKeys(input.publicKey).catch(keysRefusal) : null
        const { client, secret } = await registerClient(
          ctx.db,
          ctx.keys,
          { ...input, isService, isConfidential, tokenEndpointAuthMethod: method, jwks, ownerUserId: session.user.id, teamId: session.activeTeam.id },
          ctx.clock(),
        )
        recordClientEvent(ctx, request, session, client, 'client.created')
        // To the new client's page, where a secret is shown at once, as a new personal access token is.
        return secret === undefined ? `${clientPath(client.id)}?done=created` : `${await secretShownAt(ctx, session, client, secret)}&done=created`
      } catch (err) {
        if (!isClientFormError(err)) throw err
        return newClientPage(ctx, request, reply, refusedClientFormView(input, err, ctx.keyRing.idTokenAlgorithms()), 400)
      }
    })
  })
}
