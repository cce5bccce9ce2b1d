import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { endSession } from '../../accounts/sessions.js'
import { findClient } from '../../clients/clients.js'
import type { Client } from '../../clients/types.js'
import type { AppContext } from '../../context.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import type { RawParams } from '../../protocol/params.js'
import { readIdTokenHint, type IdTokenHint } from '../../oidc/id-token.js'
import { checkSessionCsrf, clearSessionCookie, currentSession } from '../session.js'
import { sendPage } from '../pages/page.js'

const CARRIED = ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id', 'logout_hint', 'ui_locales'] as const

function text(params: RawParams, name: string): string | undefined {
  const value = params[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

type Checked = { hint: IdTokenHint | undefined; client: Client | undefined; target: string | undefined } | { refused: string }

/**
 * RP-Initiated Logout 1.0 §2–§3: the hint must be one of our ID tokens, the
 * client it names the one in client_id, and the post-logout URI one that
 * client registered, exactly; otherwise no redirect at all (no open redirector).
 */
async function check(ctx: AppContext, params: RawParams): Promise<Checked> {
  const rawHint = text(params, 'id_token_hint')
  const hint = rawHint === undefined ? undefined : await readIdTokenHint(ctx.keyRing, ctx.config.issuer, rawHint)
  if (rawHint !== undefined && !hint) return { refused: 'The id_token_hint is not an ID token of this server.' }
  const clientId = text(params, 'client_id')
  if (hint && clientId !== undefined && hint.clientId !== clientId) return { refused: 'The client_id is not the one the id_token_hint was issued to.' }
  const id = hint?.clientId ?? clientId
  const client = id === undefined ? undefined : await findClient(ctx.db, id)
  const uri = text(params, 'post_logout_redirect_uri')
  if (uri === undefined) return { hint, client, target: undefined }
  if (!client || !client.postLogoutRedirectUris.includes(uri)) return { refused: 'The post_logout_redirect_uri is not registered for this application.' }
  return { hint, client, target: uri }
}

async function finish(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, target: string | undefined, state: string | undefined) {
  const session = await currentSession(ctx, request)
  if (session) {
    const ended = await endSession(ctx.db, session.id)
    if (ended) ctx.backchannel.sessionsEnded([ended])
  }
  clearSessionCookie(ctx, reply)
  if (target === undefined) return sendPage(ctx, request, reply, 'logged-out', {})
  const url = new URL(target)
  if (state !== undefined) url.searchParams.append('state', state)
  return reply.redirect(url.href, 303)
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
    return finish(ctx, request, reply, checked.target, text(params, 'state'))
  })

  app.post<{ Body: RawParams }>(ENDPOINTS.endSession, async (request, reply) => {
    const params = request.body ?? {}
    const checked = await check(ctx, params)
    if ('refused' in checked) return sendPage(ctx, request, reply, 'error', { title: 'This logout request is not valid', message: checked.refused }, 400)
    const session = await currentSession(ctx, request)
    if (session && checked.hint?.userId !== session.user.id) checkSessionCsrf(ctx, session, params._csrf)
    return finish(ctx, request, reply, checked.target, text(params, 'state'))
  })
}
