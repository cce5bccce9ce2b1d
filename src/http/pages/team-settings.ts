import type { FastifyInstance } from 'fastify'
import { roleIn, setTwoFactorRequirement } from '../../accounts/members.js'
import type { AppContext } from '../../context.js'
import { BANNERS } from '../../messages.js'
import { sendTeamPage } from './page.js'
import { actOnce, doneBanner, formGuardProperties, type FormBody } from './portal.js'
import { teamPages, teamSessionOf } from './session-guard.js'

const TEAM_SETTINGS_PATH = '/team/settings'

interface SettingsBody extends FormBody {
  require_two_factor?: string
}

const settingsBodySchema = {
  type: 'object',
  properties: { require_two_factor: { type: 'string', maxLength: 10 }, ...formGuardProperties },
} as const

/** The team's settings: for now, whether its members must use two-factor sign-in (owners change it, members see it). */
export function teamSettingsRoutes(app: FastifyInstance, ctx: AppContext): void {
  teamPages(app, ctx, (pages) => {
    pages.get<{ Querystring: { done?: string } }>(TEAM_SETTINGS_PATH, async (request, reply) => {
      const session = teamSessionOf(request)
      return sendTeamPage(ctx, request, reply, 'team-settings', 'Team settings', {
        isOwner: (await roleIn(ctx.db.kysely, session.activeTeam.id, session.user.id)) === 'owner',
        banner: doneBanner(BANNERS.teamSettings, request.query.done),
      })
    })

    pages.post<{ Body: SettingsBody }>(TEAM_SETTINGS_PATH, { schema: { body: settingsBodySchema } }, async (request, reply) =>
      actOnce(ctx, request, reply, TEAM_SETTINGS_PATH, async () => {
        const session = teamSessionOf(request)
        const required = request.body.require_two_factor === 'on'
        await setTwoFactorRequirement(ctx, session.activeTeam.id, { user: session.user, address: request.ip }, required, ctx.clock())
        return `${TEAM_SETTINGS_PATH}?done=saved`
      }),
    )
  })
}
