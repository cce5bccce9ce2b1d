import type { FastifyInstance } from 'fastify'
import { setSkipConsent } from '../../../clients/clients.js'
import type { AppContext } from '../../../context.js'
import { actOnce, formGuardProperties, idParamsSchema, type FormBody, type IdParams } from '../portal.js'
import { teamSessionOf } from '../session-guard.js'
import { managedClient, recordClientEvent } from './team-client.js'
import { clientPath } from './view.js'

interface SkipConsentBody extends FormBody {
  skip_consent: 'on' | 'off'
}

const skipConsentBodySchema = {
  type: 'object',
  properties: { skip_consent: { type: 'string', enum: ['on', 'off'] }, ...formGuardProperties },
  required: ['skip_consent'],
} as const

// The product's own apps are created by the operator (gatehouse clients create --first-party), who names
// their owner; that person and the team's owners, who may already change where the app's codes go, may
// let users through without the consent page. Every change is in the team's activity log.
export function skipConsentRoutes(pages: FastifyInstance, ctx: AppContext): void {
  pages.post<{ Params: IdParams; Body: SkipConsentBody }>(
    '/settings/clients/:id/skip-consent',
    { schema: { params: idParamsSchema, body: skipConsentBodySchema } },
    async (request, reply) => {
      const session = teamSessionOf(request)
      const client = await managedClient(ctx, session, request.params.id)
      return actOnce(ctx, request, reply, clientPath(client.id), async () => {
        const skip = request.body.skip_consent === 'on'
        const updated = await setSkipConsent(ctx.db, client, skip, ctx.clock())
        recordClientEvent(ctx, request, session, updated, skip ? 'client.skip_consent_enabled' : 'client.skip_consent_disabled')
        return `${clientPath(client.id)}?done=${skip ? 'consent_skipped' : 'consent_shown'}`
      })
    },
  )
}
