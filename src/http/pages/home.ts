import type { FastifyInstance } from 'fastify'
import { switchTeam } from '../../accounts/sessions.js'
import { activityPage } from '../../activity/list.js'
import type { ActivityAction } from '../../activity/types.js'
import type { AppContext } from '../../context.js'
import { safeLocalPath } from '../local-path.js'
import { ACTIONS } from './activity.js'
import { shownTime } from './format.js'
import { sendPage } from './page.js'
import { NEW_TEAM, NEW_TEAM_PATH } from './new-team.js'
import { loggedInPages, sessionOf } from './session-guard.js'
import { overviewCounts } from './settings.js'

/** The most recent entries of the team's log, as the home page's hint of what happened lately. */
const RECENT_ENTRIES = 3

export function homeRoutes(app: FastifyInstance, ctx: AppContext): void {
  loggedInPages(app, ctx, (pages) => {
    pages.get('/', async (request, reply) => {
      const session = sessionOf(request)
      const team = session.activeTeam
      if (!team) return sendPage(ctx, request, reply, 'home')
      const [counts, recent] = await Promise.all([
        overviewCounts(ctx, session.user.id, team.id),
        activityPage(ctx.db, { teamId: team.id }, undefined, RECENT_ENTRIES),
      ])
      return sendPage(ctx, request, reply, 'home', {
        counts,
        recent: recent.items.map((item) => ({ at: shownTime(item.createdAt), action: ACTIONS[item.action as ActivityAction] ?? item.action })),
      })
    })

    pages.post<{ Body: { team_id?: string; return_to?: string; _csrf?: string } }>('/team', async (request, reply) => {
      const session = sessionOf(request)
      // The switcher's "New team" entry: the switch that picked it goes to the form.
      if (request.body?.team_id === NEW_TEAM) return reply.redirect(NEW_TEAM_PATH, 303)
      const teamId = Number(request.body?.team_id)
      await switchTeam(ctx.db, session.id, session.user.id, Number.isSafeInteger(teamId) ? teamId : -1)
      return reply.redirect(safeLocalPath(request.body?.return_to), 303)
    })
  })
}
