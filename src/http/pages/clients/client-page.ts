import type { FastifyInstance } from 'fastify'
import { takeOneView } from '../../../accounts/portal-forms.js'
import { updateClient } from '../../../clients/clients.js'
import type { AppContext } from '../../../context.js'
import { BANNERS } from '../../../messages.js'
import { actOnce, doneBanner, idParamsSchema, type IdParams } from '../portal.js'
import { teamSessionOf } from '../session-guard.js'
import { clientFormBodySchema, isClientFormError, readClientForm, refusedClientFormView, type ClientFormBody } from './form.js'
import { activeTeamClient, managedClient, recordClientEvent } from './team-client.js'
import { clientPage, clientPath } from './view.js'

/** A client's page, and its edit form. */
export function clientPageRoutes(pages: FastifyInstance, ctx: AppContext): void {
  // `?shown=` names a secret kept for one view by the POST that redirected here (reveal, regenerate).
  pages.get<{ Params: IdParams; Querystring: { done?: string; shown?: string } }>(
    '/settings/clients/:id',
    {
      schema: {
        params: idParamsSchema,
        querystring: { type: 'object', properties: { done: { type: 'string', maxLength: 40 }, shown: { type: 'string', maxLength: 100 } } },
      },
    },
    async (request, reply) => {
      const session = teamSessionOf(request)
      const client = await activeTeamClient(ctx, session, request.params.id)
      const shown = request.query.shown ? await takeOneView(ctx.db, ctx.keys, session.id, request.query.shown, ctx.clock()) : undefined
      const secret = shown?.subjectId === client.id ? shown.secret : undefined
      return clientPage(ctx, request, reply, client, { banner: doneBanner(BANNERS.clients, request.query.done), secret })
    },
  )

  pages.post<{ Params: IdParams; Body: ClientFormBody }>(
    '/settings/clients/:id',
    { schema: { params: idParamsSchema, body: clientFormBodySchema } },
    async (request, reply) => {
      const session = teamSessionOf(request)
      const client = await managedClient(ctx, session, request.params.id)
      const input = readClientForm(request.body, ctx.keyRing.idTokenAlgorithms())
      return actOnce(ctx, request, reply, clientPath(client.id), async () => {
        try {
          const updated = await updateClient(ctx.db, client, input, ctx.clock())
          recordClientEvent(ctx, request, session, updated, 'client.updated')
          return `${clientPath(client.id)}?done=updated`
        } catch (err) {
          if (!isClientFormError(err)) throw err
          return clientPage(ctx, request, reply, client, { form: refusedClientFormView(input, err, ctx.keyRing.idTokenAlgorithms()) }, 400)
        }
      })
    },
  )
}
