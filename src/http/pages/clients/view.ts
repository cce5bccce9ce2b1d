import type { FastifyReply, FastifyRequest } from 'fastify'
import { canManageClient } from '../../../clients/access.js'
import { mayOfferSkipConsent, mayOfferTokenExchange } from '../../../clients/clients.js'
import { isRequestInspectionHost } from '../../../clients/redirect-uris.js'
import { isServiceClient, type Client } from '../../../clients/types.js'
import type { AppContext } from '../../../context.js'
import { shownTime } from '../format.js'
import { withNamesText } from '../../views.js'
import { ENDPOINTS } from '../../../oauth/metadata.js'
import { sendTeamPage } from '../page.js'
import { teamSessionOf } from '../session-guard.js'
import { clientFormView, type ClientFormView } from './form.js'

export function clientView(client: Client) {
  return {
    id: client.id,
    name: client.name,
    isConfidential: client.isConfidential,
    kind: isServiceClient(client) ? ('service' as const) : client.isConfidential ? ('confidential' as const) : ('public' as const),
    /** How it proves itself; a private_key_jwt client has no secret to show. */
    authMethod: client.tokenEndpointAuthMethod,
    hasSecret: client.isConfidential && client.tokenEndpointAuthMethod !== 'private_key_jwt',
    redirectUris: client.redirectUris.map((uri) => ({ uri, warning: isRequestInspectionHost(uri) })),
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    backchannelLogoutUri: client.backchannelLogoutUri,
    /** Shown only where it may be on: the product's own apps with a secret. */
    skipConsent: mayOfferSkipConsent(client) ? { on: client.skipConsent } : undefined,
    /** The operator's switch for RFC 8693 token exchange, offered where the consent-page switch is. */
    tokenExchange: mayOfferTokenExchange(client) ? { on: client.tokenExchange } : undefined,
    createdAt: shownTime(client.createdAt),
  }
}

export function clientPath(id: string): string {
  return `/settings/clients/${encodeURIComponent(id)}`
}

/** What an integrator needs to connect the client: the issuer, the endpoints, and the code exchange as a curl command. */
function connection(issuer: string, client: Client) {
  const token = `${issuer}${ENDPOINTS.token}`
  const redirect = client.redirectUris[0] ?? 'YOUR_REDIRECT_URL'
  const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`
  const who = client.isConfidential ? [`-u ${quote(`${client.id}:YOUR_CLIENT_SECRET`)}`] : [`-d client_id=${quote(client.id)}`]
  const curl = [
    `curl -X POST ${quote(token)}`,
    ...who,
    '-d grant_type=authorization_code',
    '-d code=CODE_FROM_THE_REDIRECT',
    `--data-urlencode redirect_uri=${quote(redirect)}`,
    ...(client.isConfidential ? [] : ['-d code_verifier=YOUR_PKCE_VERIFIER']),
  ].join(' \\\n  ')
  return {
    urls: [
      { id: 'issuer-url', label: 'Issuer', value: issuer },
      { id: 'authorize-url', label: 'Authorization endpoint', value: `${issuer}${ENDPOINTS.authorization}` },
      { id: 'token-url', label: 'Token endpoint', value: token },
      { id: 'discovery-url', label: 'Discovery document', value: `${issuer}/.well-known/openid-configuration` },
    ],
    curl,
  }
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
      form: options.form ?? clientFormView({ ...client, kind: view.kind === 'service' ? 'service' : 'confidential' }, ctx.keyRing.idTokenAlgorithms()),
      secret: options.secret,
      banner: options.banner,
      connection: connection(ctx.config.issuer, client),
      hasInspectionHost: view.redirectUris.some((r) => r.warning),
    },
    status,
  )
}
