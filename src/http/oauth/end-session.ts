import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { endSession } from '../../accounts/sessions.js'
import type { AppContext } from '../../context.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import type { RawParams } from '../../protocol/params.js'
import { checkLogoutRequest, postLogoutRedirect } from '../../oidc/end-session.js'
import { checkSessionCsrf, clearSessionCookie, currentSession } from '../session.js'
import { sendPage } from '../pages/page.js'

const CARRIED = ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id', 'logout_hint', 'ui_locales'] as const

function text(params: RawParams, name: string): string | undefined {
  const value = params[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function check(ctx: AppContext, params: RawParams) {
  return checkLogoutRequest(ctx, {
    idTokenHint: text(params, 'id_token_hint'),
    clientId: text(params, 'client_id'),
    postLogoutRedirectUri: text(params, 'post_logout_redirect_uri'),
  })
}

type Next = { target: string | undefined; follows: boolean }

async function finish(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, next: Next, state: string | undefined) {
  const session = await currentSession(ctx, request)
  if (session) {
    const ended = await endSession(ctx.db, session.id)
    if (ended) ctx.backchannel.sessionsEnded([ended])
  }
  clearSessionCookie(ctx, reply)
  if (next.target === undefined) return sendPage(ctx, request, reply, 'logged-out', {})
  const onward = postLogoutRedirect(next.target, state)
  if (!next.follows) return sendPage(ctx, request, reply, 'logged-out', { onward })
  return reply.redirect(onward, 303)
}

/** OpenID Connect RP-Initiated Logout 1.0 at the end_session_endpoint. */
export function endSessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(ENDPOINTS.endSession, async (request, reply) => {
    const params = request.query as RawParams
    const checked = await check(ctx, params)
    if ('refused' in checked) return sendPage(ctx, request, reply, 'error', { title: 'This logout request is not valid', message: checked.refused }, 400)
    const session = await currentSession(ctx, request)
    // §2: without a hint naming the user signed in, ask first, so no other site can log the user out.
    if (session && checked.hint?.userId !== session.user.id) {
      const carried = CARRIED.flatMap((name) => (typeof params[name] === 'string' ? [{ name, value: params[name] }] : []))
      return sendPage(ctx, request, reply, 'end-session', { csrf: session.csrfToken, carried, clientName: checked.client?.name, action: ENDPOINTS.endSession })
    }
    return finish(ctx, request, reply, checked, text(params, 'state'))
  })

  app.post<{ Body: RawParams }>(ENDPOINTS.endSession, async (request, reply) => {
    const params = request.body ?? {}
    const checked = await check(ctx, params)
    if ('refused' in checked) return sendPage(ctx, request, reply, 'error', { title: 'This logout request is not valid', message: checked.refused }, 400)
    const session = await currentSession(ctx, request)
    if (session && checked.hint?.userId !== session.user.id) checkSessionCsrf(ctx, session, params._csrf)
    return finish(ctx, request, reply, checked, text(params, 'state'))
  })
}
