import type { FastifyReply, FastifyRequest } from 'fastify'
import { newFormId } from '../../accounts/portal-forms.js'
import type { AppContext } from '../../context.js'
import { safeLocalPath } from '../local-path.js'
import { currentSession, sessionCookieName, type PortalSession } from '../session.js'
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
  const html = render(template, { ...data, session, currentPath: request.url, formId: newFormId })
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html)
}

/**
 * The logged-in session, or a redirect to the login page that comes back
 * here afterwards: to this page, or for a form sent after the session
 * ended, to the page the form was on.
 */
export async function requireLogin(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<PortalSession | undefined> {
  const session = await currentSession(ctx, request)
  if (!session) {
    const formPage = request.method === 'POST' ? (request.body as { _page?: unknown } | undefined)?._page : undefined
    const returnTo = formPage === undefined ? request.url : safeLocalPath(formPage)
    // A form is only ever shown to a session, and a cookie outlives its session: either means it expired.
    const expired = request.method === 'POST' || request.cookies[sessionCookieName(ctx)] !== undefined
    await reply.redirect(`/login?return_to=${encodeURIComponent(returnTo)}${expired ? '&expired=1' : ''}`, 303)
    return undefined
  }
  return session
}
