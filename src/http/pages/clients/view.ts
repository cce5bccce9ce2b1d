import type { FastifyReply, FastifyRequest } from 'fastify'
import { canManageClient } from '../../../clients/access.js'
import { mayOfferSkipConsent } from '../../../clients/clients.js'
import { isRequestInspectionHost } from '../../../clients/redirect-uris.js'
import type { Client } from '../../../clients/types.js'
import type { AppContext } from '../../../context.js'
import { shownTime } from '../format.js'
import { withNamesText } from '../../views.js'
import { sendTeamPage } from '../page.js'
import { teamSessionOf } from '../session-guard.js'
import { clientFormView, type ClientFormView } from './form.js'

export function clientView(client: Client) {
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

export function clientPath(id: string): string {
  return `/settings/clients/${encodeURIComponent(id)}`
}

interface ClientPageOptions {
  form?: ClientFormView
  secret?: string
  banner?: string
}

/** A client's page: what it is, and for those who may change it, the edit form and its secret. */
export function clientPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, client: Client, options: ClientPageOptions, status = 200) {
  const session = teamSessionOf(request)
  const view = clientView(client)
  return sendTeamPage(
    ctx,
    request,
    reply,
    'client',
    withNamesText('{name}', { name: client.name }),
    {
      client: view,
      canManage: canManageClient(client, session.user, session.teams),
      form: options.form ?? clientFormView(client, ctx.keyRing.idTokenAlgorithms()),
      secret: options.secret,
      banner: options.banner,
      hasInspectionHost: view.redirectUris.some((r) => r.warning),
    },
    status,
  )
}
