import type { FastifyInstance } from 'fastify'
import { regenerateClientSecret, revealClientSecret } from '../../../clients/clients.js'
import type { AppContext } from '../../../context.js'
import { CONFIRMATIONS, Refusal } from '../../../messages.js'
import { csrfBodySchema, idParamsSchema, type FormBody, type IdParams } from '../portal.js'
import { teamSessionOf } from '../session-guard.js'
import { confirmedClientAction } from './confirmed-action.js'
import { managedClient, recordClientEvent, secretShownAt } from './team-client.js'

/** A confidential client's secret: shown again on request, or replaced by a new one. */
export function clientSecretRoutes(pages: FastifyInstance, ctx: AppContext): void {
  // A POST with the CSRF token, though it changes nothing: revealing is a
  // deliberate act, so no link, prefetch or history entry brings the secret on
  // screen. It redirects to the client's page, which shows the secret once.
  pages.post<{ Params: IdParams; Body: FormBody }>(
    '/settings/clients/:id/secret',
    { schema: { params: idParamsSchema, body: csrfBodySchema } },
    async (request, reply) => {
      const session = teamSessionOf(request)
      const client = await managedClient(ctx, session, request.params.id)
      const secret = await revealClientSecret(ctx.db, ctx.keys, client.id)
      if (secret === undefined) throw new Refusal('client_no_secret', 404)
      recordClientEvent(ctx, request, session, client, 'client.secret_revealed')
      return reply.redirect(await secretShownAt(ctx, session, client, secret), 303)
    },
  )

  confirmedClientAction(pages, ctx, {
    action: 'regenerate',
    applies: (client) => {
      if (!client.isConfidential) throw new Refusal('client_no_secret', 404)
    },
    confirm: CONFIRMATIONS.regenerateClientSecret,
    // The new secret is shown at once, on the page this redirects to.
    run: async (client, session) => {
      const secret = await regenerateClientSecret(ctx.db, ctx.keys, client.id, ctx.clock())
      return `${await secretShownAt(ctx, session, client, secret)}&done=regenerated`
    },
    event: 'client.secret_regenerated',
  })
}
