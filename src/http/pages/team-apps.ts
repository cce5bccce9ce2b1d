import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../../context.js'
import { AppError, BANNERS, CONFIRMATIONS } from '../../messages.js'
import { revokeTeamApp, teamApps } from '../../oauth/team-apps.js'
import type { TeamApp } from '../../oauth/types.js'
import { checkSessionCsrf } from '../session.js'
import { shownTime } from './format.js'
import { sendPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, idParamsSchema, requireTeamSession, type FormBody } from './portal.js'

/** One row per app: the domain lists one authorisation per user, and revoking ends the app's access for them all. */
function appViews(apps: TeamApp[]) {
  const byClient = new Map<string, TeamApp[]>()
  for (const app of apps) byClient.set(app.clientId, [...(byClient.get(app.clientId) ?? []), app])
  return [...byClient.values()].map((authorisations) => {
    const lastUsed = authorisations.map((a) => a.lastUsedAt?.getTime() ?? 0).reduce((a, b) => Math.max(a, b), 0)
    return {
      clientId: authorisations[0]!.clientId,
      name: authorisations[0]!.name,
      authorisations: authorisations.map((a) => ({ by: a.authorisedBy, at: shownTime(a.authorisedAt) })),
      lastUsedAt: shownTime(lastUsed === 0 ? null : new Date(lastUsed)),
    }
  })
}

async function authorisedApp(ctx: AppContext, teamId: number, clientId: string): Promise<TeamApp> {
  const app = (await teamApps(ctx.db, teamId)).find((a) => a.clientId === clientId)
  if (!app) throw new AppError('team_app_not_found', 404)
  return app
}

export function teamAppRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: { done?: string } }>('/team/apps', async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    const apps = await teamApps(ctx.db, session.activeTeam.id)
    return sendPage(ctx, request, reply, 'team-apps', {
      title: 'Team apps',
      team: session.activeTeam,
      apps: appViews(apps),
      banner: doneBanner(BANNERS.teamApps, request.query.done),
    })
  })

  app.get<{ Params: { id: string } }>('/team/apps/:id/revoke', { schema: { params: idParamsSchema } }, async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    const authorised = await authorisedApp(ctx, session.activeTeam.id, request.params.id)
    return sendPage(ctx, request, reply, 'confirm', {
      ...CONFIRMATIONS.revokeTeamApp,
      names: { name: authorised.name, team: session.activeTeam.name },
      action: `/team/apps/${authorised.clientId}/revoke`,
      cancelHref: '/team/apps',
      csrf: session.csrfToken,
    })
  })

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/team/apps/:id/revoke',
    { schema: { params: idParamsSchema, body: csrfBodySchema } },
    async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      return actOnce(ctx, reply, session, request.body, '/team/apps', async () => {
        const authorised = await authorisedApp(ctx, session.activeTeam.id, request.params.id)
        await revokeTeamApp(ctx.db, ctx.activity, { clientId: authorised.clientId, teamId: session.activeTeam.id, byUserId: session.user.id, address: request.ip }, ctx.clock())
        return '/team/apps?done=revoked'
      })
    },
  )
}
