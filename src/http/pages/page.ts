import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { currentSession, type PortalSession } from '../session.js'
import { render } from '../views.js'

/** Renders a portal page inside the layout, with the navigation for the logged-in user. */
export async function sendPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  data: Record<string, unknown> = {},
  status = 200,
): Promise<FastifyReply> {
  const session = await currentSession(ctx, request)
  const html = render(template, { ...data, session, currentPath: request.url })
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html)
}

/** The logged-in session, or a redirect to the login page that comes back here afterwards. */
export async function requireLogin(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<PortalSession | undefined> {
  const session = await currentSession(ctx, request)
  if (!session) {
    await reply.redirect(`/login?return_to=${encodeURIComponent(request.url)}`, 303)
    return undefined
  }
  return session
}
