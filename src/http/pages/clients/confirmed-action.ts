import type { FastifyInstance } from 'fastify'
import type { ActivityAction } from '../../../activity/types.js'
import type { Client } from '../../../clients/types.js'
import type { AppContext } from '../../../context.js'
import type { Confirmation } from '../../../messages.js'
import { sendConfirmPage } from '../page.js'
import { actOnce, csrfBodySchema, idParamsSchema, type FormBody, type IdParams } from '../portal.js'
import { teamSessionOf, type TeamSession } from '../session-guard.js'
import { managedClient, recordClientEvent } from './team-client.js'

interface ConfirmedAction {
  /** The last part of the action's path, after the client's. */
  action: string
  /** Refuses a client the action does not apply to. */
  applies?: (client: Client) => void
  confirm: Confirmation
  /** Does it, and names the page to go to. */
  run: (client: Client, session: TeamSession) => Promise<string>
  event: ActivityAction
}

/**
 * A destructive action on a client: a confirmation page on GET, the action
 * on a POST with the session's CSRF token, then a redirect to a banner.
 */
export function confirmedClientAction(pages: FastifyInstance, ctx: AppContext, options: ConfirmedAction): void {
  const path = `/settings/clients/:id/${options.action}`
  pages.get<{ Params: IdParams }>(path, { schema: { params: idParamsSchema } }, async (request, reply) => {
    const client = await managedClient(ctx, teamSessionOf(request), request.params.id, request.url)
    options.applies?.(client)
    return sendConfirmPage(
      ctx,
      request,
      reply,
      options.confirm,
      { name: client.name },
      { action: `/settings/clients/${client.id}/${options.action}`, cancel: `/settings/clients/${client.id}` },
    )
  })

  pages.post<{ Params: IdParams; Body: FormBody }>(path, { schema: { params: idParamsSchema, body: csrfBodySchema } }, async (request, reply) => {
    const session = teamSessionOf(request)
    return actOnce(ctx, request, reply, '/settings/clients', async () => {
      const client = await managedClient(ctx, session, request.params.id)
      options.applies?.(client)
      const location = await options.run(client, session)
      recordClientEvent(ctx, request, session, client, options.event)
      return location
    })
  })
}
