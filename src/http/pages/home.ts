import type { FastifyInstance } from 'fastify'
import { switchTeam } from '../../accounts/sessions.js'
import type { AppContext } from '../../context.js'
import { safeLocalPath } from '../local-path.js'
import { checkSessionCsrf } from '../session.js'
import { requireLogin, sendPage } from './page.js'

export function homeRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/', async (request, reply) => {
    const session = await requireLogin(ctx, request, reply)
    if (!session) return reply
    return sendPage(ctx, request, reply, 'home')
  })

  app.post<{ Body: { team_id?: string; return_to?: string; _csrf?: string } }>('/team', async (request, reply) => {
    const session = await requireLogin(ctx, request, reply)
    if (!session) return reply
    checkSessionCsrf(ctx, session, request.body?._csrf)
    const teamId = Number(request.body?.team_id)
    await switchTeam(ctx.db, session.id, session.user.id, Number.isSafeInteger(teamId) ? teamId : -1)
    return reply.redirect(safeLocalPath(request.body?.return_to), 303)
  })
}
