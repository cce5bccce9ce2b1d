import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { switchTeam } from '../../accounts/sessions.js'
import { createTeam } from '../../accounts/teams.js'
import type { AppContext } from '../../context.js'
import { MESSAGES, Refusal } from '../../messages.js'
import { NAME_MAX_LENGTH } from '../../names.js'
import { sendPage } from './page.js'
import { actOnce, formGuardProperties, type FormBody } from './portal.js'
import { loggedInPages, sessionOf } from './session-guard.js'

/** The team switcher's value for its "New team" entry; team ids are numbers, so it names no team. */
export const NEW_TEAM = 'new'
export const NEW_TEAM_PATH = '/teams/new'

interface NewTeamBody extends FormBody {
  name?: string
}

const newTeamBodySchema = {
  type: 'object',
  // The domain says when a name is too long, in words; the schema only bounds the body.
  properties: { name: { type: 'string', maxLength: 4096 }, ...formGuardProperties },
} as const

function newTeamPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form: { name: string; nameError?: string }, status = 200) {
  return sendPage(ctx, request, reply, 'team-new', { title: 'New team', form, maxLength: NAME_MAX_LENGTH }, status)
}

/**
 * Anyone logged in may start a team: they become its owner and work in it
 * at once. The activity log of the new team records who made it, from where.
 */
export function newTeamRoutes(app: FastifyInstance, ctx: AppContext): void {
  loggedInPages(app, ctx, (pages) => {
    pages.get(NEW_TEAM_PATH, (request, reply) => newTeamPage(ctx, request, reply, { name: '' }))

    pages.post<{ Body: NewTeamBody }>('/teams', { schema: { body: newTeamBodySchema } }, async (request, reply) => {
      const session = sessionOf(request)
      const name = request.body?.name ?? ''
      return actOnce(ctx, request, reply, '/', async () => {
        let team
        try {
          team = await createTeam(ctx.db, name, session.user.id, ctx.clock())
        } catch (err) {
          if (!(err instanceof Refusal) || !err.code.startsWith('team_name')) throw err
          return newTeamPage(ctx, request, reply, { name, nameError: MESSAGES[err.code] }, err.status)
        }
        await switchTeam(ctx.db, session.id, session.user.id, team.id)
        ctx.activity.record({ action: 'team.created', teamId: team.id, userId: session.user.id, detail: team.name, address: request.ip })
        return '/'
      })
    })
  })
}
