import type { FastifyReply, FastifyRequest } from 'fastify'
import { newFormId } from '../../accounts/portal-forms.js'
import type { AppContext } from '../../context.js'
import type { Confirmation } from '../../messages.js'
import { currentSession } from '../session.js'
import { render } from '../views.js'
import { teamSessionOf } from './session-guard.js'

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
  const html = render(template, ctx.config.brand, { ...data, session, currentPath: request.url, formId: newFormId })
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html)
}

/** A page of the active team: its title and the team it is about, over the page's own data. */
export function sendTeamPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  title: string,
  data: Record<string, unknown> = {},
  status = 200,
): Promise<FastifyReply> {
  return sendPage(ctx, request, reply, template, { title, team: teamSessionOf(request).activeTeam, ...data }, status)
}

/** The page that asks before a destructive action: its words, the names they mention, and where each button goes. */
export function sendConfirmPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  confirmation: Confirmation,
  names: Record<string, string>,
  hrefs: { action: string; cancel: string },
): Promise<FastifyReply> {
  return sendPage(ctx, request, reply, 'confirm', { ...confirmation, names, action: hrefs.action, cancelHref: hrefs.cancel })
}
