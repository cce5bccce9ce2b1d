import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../../../context.js'
import { teamPages } from '../session-guard.js'
import { clientPageRoutes } from './client-page.js'
import { clientDeleteRoutes } from './delete.js'
import { clientListRoutes } from './list.js'
import { clientSecretRoutes } from './secret.js'
import { skipConsentRoutes } from './skip-consent.js'
import { tokenExchangeRoutes } from './token-exchange.js'

/** The team's API clients under /settings/clients, in the developer settings. */
export function clientRoutes(app: FastifyInstance, ctx: AppContext): void {
  teamPages(app, ctx, (pages) => {
    clientListRoutes(pages, ctx)
    clientPageRoutes(pages, ctx)
    clientSecretRoutes(pages, ctx)
    skipConsentRoutes(pages, ctx)
    tokenExchangeRoutes(pages, ctx)
    clientDeleteRoutes(pages, ctx)
  })
}
