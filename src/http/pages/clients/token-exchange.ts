import type { FastifyInstance } from 'fastify'
import { mayOfferTokenExchange, setTokenExchange } from '../../../clients/clients.js'
import type { AppContext } from '../../../context.js'
import { Refusal } from '../../../messages.js'
import { actOnce, formGuardProperties, idParamsSchema, type FormBody, type IdParams } from '../portal.js'
import { teamSessionOf } from '../session-guard.js'
import { managedClient, recordClientEvent } from './team-client.js'
import { clientPath } from './view.js'

interface TokenExchangeBody extends FormBody {
  token_exchange: 'on' | 'off'
}

const tokenExchangeBodySchema = {
  type: 'object',
  properties: { token_exchange: { type: 'string', enum: ['on', 'off'] }, ...formGuardProperties },
  required: ['token_exchange'],
} as const

// The operator created the product's own apps and named their owner; the same people who may let users
// skip their consent page may let them act for a user with an exchanged token. Every change is logged.
export function tokenExchangeRoutes(pages: FastifyInstance, ctx: AppContext): void {
  pages.post<{ Params: IdParams; Body: TokenExchangeBody }>(
    '/settings/clients/:id/token-exchange',
    { schema: { params: idParamsSchema, body: tokenExchangeBodySchema } },
    async (request, reply) => {
      const session = teamSessionOf(request)
      const client = await managedClient(ctx, session, request.params.id)
      if (!mayOfferTokenExchange(client)) throw new Refusal('token_exchange_first_party')
      return actOnce(ctx, request, reply, clientPath(client.id), async () => {
        const allow = request.body.token_exchange === 'on'
        const updated = await setTokenExchange(ctx.db, client, allow, ctx.clock())
        recordClientEvent(ctx, request, session, updated, allow ? 'client.token_exchange_enabled' : 'client.token_exchange_disabled')
        return `${clientPath(client.id)}?done=${allow ? 'exchange_allowed' : 'exchange_denied'}`
      })
    },
  )
}
