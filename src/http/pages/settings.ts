import type { FastifyInstance } from 'fastify'
import { clientsOfTeam } from '../../clients/access.js'
import type { AppContext } from '../../context.js'
import { teamApps } from '../../oauth/team-apps.js'
import { personalAccessTokensOf } from '../../tokens/personal-access-tokens.js'
import { sendPage } from './page.js'
import { requireTeamSession } from './portal.js'

/** How many of each thing the active team and the user have, for the overview pages. */
export async function overviewCounts(ctx: AppContext, userId: number, teamId: number) {
  const [clients, tokens, apps] = await Promise.all([clientsOfTeam(ctx.db, teamId), personalAccessTokensOf(ctx.db, userId, teamId), teamApps(ctx.db, teamId)])
  return { clients: clients.length, tokens: tokens.length, apps: new Set(apps.map((a) => a.clientId)).size }
}

export function settingsRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/settings', async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    return sendPage(ctx, request, reply, 'settings', {
      title: 'Developer settings',
      team: session.activeTeam,
      counts: await overviewCounts(ctx, session.user.id, session.activeTeam.id),
    })
  })
}
