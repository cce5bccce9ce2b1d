import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { AUTHORIZATION_TITLES, MESSAGES } from '../../messages.js'
import {
  approve,
  errorRedirect,
  hasConsent,
  parseAuthorizationRequest,
  resolveRedirect,
  responseRedirect,
  UntrustedRedirectError,
  type Approver,
  type AuthorizationRequest,
} from '../../oauth/authorize.js'
import { AccessDenied, OAuthError } from '../../oauth/errors.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import type { RawParams } from '../../oauth/params.js'
import { SCOPES } from '../../oauth/scopes.js'
import { checkSessionCsrf, currentSession, type PortalSession } from '../session.js'
import { requireLogin, sendPage } from '../pages/page.js'

/** The parameters carried from the GET to the consent form's POST. */
const CARRIED = ['client_id', 'redirect_uri', 'response_type', 'state', 'scope', 'code_challenge', 'code_challenge_method', 'nonce'] as const

function approverOf(session: PortalSession, teamId: number): Approver {
  return { userId: session.user.id, teamId, sid: session.sid, authenticatedAt: session.authenticatedAt, sessionExpiresAt: session.expiresAt }
}

type Outcome = { request: AuthorizationRequest } | { reply: FastifyReply }

async function checkRequest(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, params: RawParams): Promise<Outcome> {
  let resolved
  try {
    resolved = await resolveRedirect(ctx, params)
  } catch (err) {
    if (!(err instanceof UntrustedRedirectError)) throw err
    // Never redirect to a client or URL we cannot vouch for (no open redirector).
    return { reply: await sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.invalid, message: err.message }, 400) }
  }
  try {
    return { request: parseAuthorizationRequest(resolved.client, resolved.redirectUri, params) }
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err
    const state = typeof params.state === 'string' ? params.state : undefined
    return { reply: await reply.redirect(errorRedirect(ctx, resolved.redirectUri, err, state), 302) }
  }
}

function consentPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PortalSession,
  authorization: AuthorizationRequest,
  params: RawParams,
) {
  const carried = CARRIED.flatMap((name) => (typeof params[name] === 'string' ? [{ name, value: params[name] }] : []))
  return sendPage(ctx, request, reply, 'consent', {
    title: AUTHORIZATION_TITLES.consent(authorization.client.name),
    client: authorization.client,
    team: session.activeTeam,
    scopes: authorization.scopes.map((s) => ({ name: s, description: SCOPES[s] })),
    carried,
    csrf: session.csrfToken,
    action: ENDPOINTS.authorization,
  })
}

export function authorizeRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(ENDPOINTS.authorization, async (request, reply) => {
    const params = request.query as RawParams
    const checked = await checkRequest(ctx, request, reply, params)
    if ('reply' in checked) return checked.reply
    const session = await requireLogin(ctx, request, reply)
    if (!session) return reply
    if (!session.activeTeam) return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.noTeam, message: MESSAGES.no_active_team }, 403)
    const authorization = checked.request
    if (await hasConsent(ctx, authorization, session.user.id, session.activeTeam.id)) {
      const code = await approve(ctx, authorization, approverOf(session, session.activeTeam.id))
      return reply.redirect(responseRedirect(ctx, authorization.redirectUri, { code, state: authorization.state }), 302)
    }
    return consentPage(ctx, request, reply, session, authorization, params)
  })

  app.post<{ Body: RawParams }>(ENDPOINTS.authorization, async (request, reply) => {
    const params = request.body ?? {}
    const session = await currentSession(ctx, request)
    if (!session)
      return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.sessionEnded, message: MESSAGES.authorization_session_ended }, 401)
    checkSessionCsrf(ctx, session, params._csrf)
    const checked = await checkRequest(ctx, request, reply, params)
    if ('reply' in checked) return checked.reply
    const authorization = checked.request
    if (!session.activeTeam) return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.noTeam, message: MESSAGES.no_active_team }, 403)
    // The page named one team; if another became active since (another tab), ask again for that one.
    if (String(session.activeTeam.id) !== params.team_id) return consentPage(ctx, request, reply, session, authorization, params)
    if (params.decision !== 'approve') {
      return reply.redirect(errorRedirect(ctx, authorization.redirectUri, new AccessDenied(), authorization.state), 302)
    }
    const code = await approve(ctx, authorization, approverOf(session, session.activeTeam.id))
    return reply.redirect(responseRedirect(ctx, authorization.redirectUri, { code, state: authorization.state }), 302)
  })
}
