import type { FastifyInstance } from 'fastify'
import { deleteClient } from '../../../clients/clients.js'
import type { AppContext } from '../../../context.js'
import { CONFIRMATIONS } from '../../../messages.js'
import { confirmedClientAction } from './confirmed-action.js'

export function clientDeleteRoutes(pages: FastifyInstance, ctx: AppContext): void {
  confirmedClientAction(pages, ctx, {
    action: 'delete',
    confirm: CONFIRMATIONS.deleteClient,
    run: async (client) => {
      await deleteClient(ctx.db, client.id)
      return '/settings/clients?done=deleted'
    },
    event: 'client.deleted',
  })
}
