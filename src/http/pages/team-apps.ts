import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../../context.js'
import { Refusal, BANNERS, CONFIRMATIONS } from '../../messages.js'
import { mayRevokeTeamApp, revokeTeamApp, teamApps, type TeamAppRevoker } from '../../oauth/team-apps.js'
import { listResources } from '../../resources/resources.js'
import type { TeamApp } from '../../tokens/types.js'
import { missingApp, orWhereItIs } from './not-in-team.js'
import { shownTime } from './format.js'
import { sendConfirmPage, sendTeamPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, idParamsSchema, type FormBody } from './portal.js'
import { teamPages, teamSessionOf, type TeamSession } from './session-guard.js'

function revoker(session: TeamSession): TeamAppRevoker {
  const role = session.teams.find((m) => m.team.id === session.activeTeam.id)?.role ?? 'member'
  return { userId: session.user.id, role }
}

/** One row per app: the domain lists one authorisation per user; the viewer may revoke the app when the domain says so. */
function appViews(apps: TeamApp[], by: TeamAppRevoker, resourceNames: Map<string, string>) {
  const byClient = new Map<string, TeamApp[]>()
  for (const app of apps) byClient.set(app.clientId, [...(byClient.get(app.clientId) ?? []), app])
  return [...byClient.values()].map((authorisations) => {
    const lastUsed = authorisations.map((a) => a.lastUsedAt?.getTime() ?? 0).reduce((a, b) => Math.max(a, b), 0)
    return {
      clientId: authorisations[0]!.clientId,
      name: authorisations[0]!.name,
      selfRegistered: authorisations[0]!.selfRegistered,
      service: authorisations[0]!.service,
      authorisations: authorisations.map((a) => ({ by: a.authorisedBy, at: shownTime(a.authorisedAt) })),
      lastUsedAt: shownTime(lastUsed === 0 ? null : new Date(lastUsed)),
      // What the users granted, together: a scope or resource any of them approved.
      scopes: [...new Set(authorisations.flatMap((a) => a.scopes))].sort(),
      resources: [...new Set(authorisations.flatMap((a) => a.resources))].sort().map((uri) => ({ uri, name: resourceNames.get(uri) ?? uri })),
      mayRevoke: authorisations.some((a) => mayRevokeTeamApp(a, by)),
    }
  })
}

/**
 * The app as the viewer may revoke it: when no one in the team authorised it, the page that says which of
 * the user's other teams did, or a 404; a 403 when only others did and the viewer is no owner.
 */
async function revocableApp(ctx: AppContext, session: TeamSession, clientId: string, by: TeamAppRevoker, returnTo: string): Promise<TeamApp> {
  const authorisations = (await teamApps(ctx.db, session.activeTeam.id)).filter((a) => a.clientId === clientId)
  if (authorisations.length === 0) return missingApp(ctx, session, clientId, returnTo)
  const revocable = authorisations.find((a) => mayRevokeTeamApp(a, by))
  if (!revocable) throw new Refusal('team_app_forbidden', 403)
  return revocable
}

export function teamAppRoutes(app: FastifyInstance, ctx: AppContext): void {
  teamPages(app, ctx, (pages) => {
    pages.get<{ Querystring: { done?: string } }>('/team/apps', async (request, reply) => {
      const session = teamSessionOf(request)
      const [apps, resources] = await Promise.all([teamApps(ctx.db, session.activeTeam.id), listResources(ctx.db, ctx.config.issuer)])
      return sendTeamPage(ctx, request, reply, 'team-apps', 'Team apps', {
        apps: appViews(apps, revoker(session), new Map(resources.map((r) => [r.uri, r.name]))),
        banner: doneBanner(BANNERS.teamApps, request.query.done),
      })
    })

    pages.get<{ Params: { id: string } }>('/team/apps/:id/revoke', { schema: { params: idParamsSchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const by = revoker(session)
      const authorised = await revocableApp(ctx, session, request.params.id, by, request.url)
      const confirmation = by.role === 'owner' ? CONFIRMATIONS.revokeTeamApp : CONFIRMATIONS.revokeOwnTeamApp
      return sendConfirmPage(
        ctx,
        request,
        reply,
        confirmation,
        { name: authorised.name, team: session.activeTeam.name },
        { action: `/team/apps/${authorised.clientId}/revoke`, cancel: '/team/apps' },
      )
    })

    pages.post<{ Params: { id: string }; Body: FormBody }>(
      '/team/apps/:id/revoke',
      { schema: { params: idParamsSchema, body: csrfBodySchema } },
      async (request, reply) => {
        const session = teamSessionOf(request)
        return actOnce(ctx, request, reply, '/team/apps', async () => {
          const by = revoker(session)
          const revocation = revokeTeamApp(
            ctx.db,
            ctx.activity,
            { clientId: request.params.id, teamId: session.activeTeam.id, by, address: request.ip },
            ctx.clock(),
          )
          await orWhereItIs(revocation, 'team_app_not_found', () => missingApp(ctx, session, request.params.id, '/team/apps'))
          return `/team/apps?done=${by.role === 'owner' ? 'revoked' : 'revoked_own'}`
        })
      },
    )
  })
}
