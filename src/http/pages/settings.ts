import type { FastifyInstance } from 'fastify'
import { clientsOfTeam } from '../../clients/access.js'
import type { AppContext } from '../../context.js'
import { teamApps } from '../../oauth/team-apps.js'
import { personalAccessTokensOf } from '../../tokens/personal-access-tokens.js'
import { sendTeamPage } from './page.js'
import { teamPages, teamSessionOf } from './session-guard.js'

/** How many of each thing the active team and the user have, for the overview pages. */
export async function overviewCounts(ctx: AppContext, userId: number, teamId: number) {
  const [clients, tokens, apps] = await Promise.all([clientsOfTeam(ctx.db, teamId), personalAccessTokensOf(ctx.db, userId, teamId), teamApps(ctx.db, teamId)])
  return { clients: clients.length, tokens: tokens.length, apps: new Set(apps.map((a) => a.clientId)).size }
}

export function settingsRoutes(app: FastifyInstance, ctx: AppContext): void {
  teamPages(app, ctx, (pages) => {
    pages.get('/settings', async (request, reply) => {
      const session = teamSessionOf(request)
      return sendTeamPage(ctx, request, reply, 'settings', 'Developer settings', {
        counts: await overviewCounts(ctx, session.user.id, session.activeTeam.id),
      })
    })
  })
}
