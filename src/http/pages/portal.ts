import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Team } from '../../accounts/types.js'
import type { AppContext } from '../../context.js'
import { AppError } from '../../messages.js'
import type { PortalSession } from '../session.js'
import { requireLogin } from './page.js'

export type TeamSession = PortalSession & { activeTeam: Team }

/** The logged-in session with its active team; the developer settings and team pages all act in that team. */
export async function requireTeamSession(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): Promise<TeamSession | undefined> {
  const session = await requireLogin(ctx, request, reply)
  if (!session) return undefined
  if (!session.activeTeam) throw new AppError('no_active_team', 403)
  return session as TeamSession
}

/**
 * The success banner named by `?done=` after a redirect. Only codes the page
 * knows produce text, so the query string can never put words on the page.
 */
export function doneBanner(banners: Record<string, string>, done: unknown): string | undefined {
  return typeof done === 'string' && Object.hasOwn(banners, done) ? banners[done] : undefined
}

/** Schema for routes whose path names a client, token or app by id. */
export const idParamsSchema = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
  required: ['id'],
} as const

export const csrfBodySchema = {
  type: 'object',
  properties: { _csrf: { type: 'string', maxLength: 200 } },
} as const
