import type { FastifyInstance } from 'fastify'
import { endOtherSessions, endSessionOfUser, signedInSessions } from '../../accounts/sessions.js'
import { describeBrowser } from '../../accounts/user-agent.js'
import type { AppContext } from '../../context.js'
import { Refusal, BANNERS } from '../../messages.js'
import { shownTime } from './format.js'
import { sendPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, formGuardProperties, type FormBody } from './portal.js'
import { loggedInPages, sessionOf } from './session-guard.js'

const SESSIONS_PATH = '/account/sessions'

interface EndSessionBody extends FormBody {
  sid: string
}

const endSessionBodySchema = {
  type: 'object',
  properties: { sid: { type: 'string', minLength: 1, maxLength: 200 }, ...formGuardProperties },
  required: ['sid'],
} as const

/**
 * The user's signed-in sessions, each ended on its own or all but this one.
 * An ended session is over at once (every request reads it from the
 * database), and the apps it signed in to are told (back-channel logout).
 */
export function sessionRoutes(app: FastifyInstance, ctx: AppContext): void {
  loggedInPages(app, ctx, (pages) => {
    pages.get<{ Querystring: { done?: string } }>(SESSIONS_PATH, async (request, reply) => {
      const session = sessionOf(request)
      const sessions = await signedInSessions(ctx.db, session.user.id, ctx.clock())
      return sendPage(ctx, request, reply, 'sessions', {
        title: 'Signed-in sessions',
        sessions: sessions.map((s) => ({
          sid: s.sid,
          current: s.sid === session.sid,
          ...describeBrowser(s.userAgent),
          address: s.address,
          createdAt: shownTime(new Date(s.createdAt)),
          // This request used the session: a "last active" up to a minute old would look wrong beside "This session".
          lastActiveAt: shownTime(new Date(s.sid === session.sid ? ctx.clock() : s.lastActiveAt)),
        })),
        banner: doneBanner(BANNERS.sessions, request.query.done),
      })
    })

    pages.post<{ Body: EndSessionBody }>(`${SESSIONS_PATH}/end`, { schema: { body: endSessionBodySchema } }, async (request, reply) => {
      const session = sessionOf(request)
      return actOnce(ctx, request, reply, SESSIONS_PATH, async () => {
        // This device signs out with Log out, which also clears its cookie.
        if (request.body.sid === session.sid) throw new Refusal('session_not_found', 404)
        const ended = await endSessionOfUser(ctx.db, session.user.id, request.body.sid)
        if (!ended) throw new Refusal('session_not_found', 404)
        ctx.backchannel.sessionsEnded([ended])
        return `${SESSIONS_PATH}?done=ended`
      })
    })

    pages.post<{ Body: FormBody }>(`${SESSIONS_PATH}/end-others`, { schema: { body: csrfBodySchema } }, async (request, reply) => {
      const session = sessionOf(request)
      return actOnce(ctx, request, reply, SESSIONS_PATH, async () => {
        ctx.backchannel.sessionsEnded(await endOtherSessions(ctx.db, session.user.id, session.id))
        return `${SESSIONS_PATH}?done=others_ended`
      })
    })
  })
}
