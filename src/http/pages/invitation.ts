import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { acceptAsNewUser, acceptAsUser, exchangeInvitationLink, openedInvitation, type InvitationDeps } from '../../accounts/invitations.js'
import { switchTeam } from '../../accounts/sessions.js'
import type { AppContext } from '../../context.js'
import { Refusal } from '../../messages.js'
import { checkSessionCsrf, currentSession } from '../session.js'
import { sendPage } from './page.js'
import { withNamesText } from '../views.js'

/** The form token an invitation link was exchanged for, kept out of the address bar. */
const FORM_COOKIE = 'gatehouse_invitation'
const FORM_PATH = '/invitation'

interface AcceptBody {
  invitation?: string
  name?: string
  password?: string
  _csrf?: string
}

const acceptBodySchema = {
  type: 'object',
  properties: {
    invitation: { type: 'string', maxLength: 200 },
    name: { type: 'string', maxLength: 1000 },
    password: { type: 'string', maxLength: 1024 },
    _csrf: { type: 'string', maxLength: 200 },
  },
} as const

const PROBLEM_TITLES: Partial<Record<Refusal['code'], string>> = {
  invitation_invalid: 'This invitation link is not valid',
  invitation_expired: 'This invitation has expired',
  invitation_used: 'This invitation was already accepted',
  invitation_cancelled: 'This invitation was cancelled',
}

function deps(ctx: AppContext): InvitationDeps {
  return { db: ctx.db, activity: ctx.activity, mail: ctx.mail, issuer: ctx.config.issuer, clock: ctx.clock }
}

/** The page that says what became of a link; anything else is for the error handler. */
function sendProblem(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, err: unknown): Promise<FastifyReply> {
  const title = err instanceof Refusal ? PROBLEM_TITLES[err.code] : undefined
  if (!title || !(err instanceof Refusal)) throw err
  return sendPage(ctx, request, reply, 'invitation-problem', { title, message: err.message, problem: err.code }, err.status)
}

/** The invitation page: what the visitor can do with it depends on who they are. */
async function sendInvitationPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  formToken: string,
  extra: { error?: string; name?: string; password?: string } = {},
  status = 200,
): Promise<FastifyReply> {
  const opened = await openedInvitation(ctx.db, formToken, ctx.clock())
  const session = await currentSession(ctx, request)
  const email = opened.invitation.email
  const mode = session ? (session.user.email.toLowerCase() === email.toLowerCase() ? 'join' : 'other-address') : opened.hasAccount ? 'log-in' : 'new-account'
  return sendPage(
    ctx,
    request,
    reply,
    'invitation',
    {
      title: withNamesText('Join {team}', { team: opened.team.name }),
      mode,
      teamName: opened.team.name,
      role: opened.invitation.role,
      email,
      formToken,
      csrf: session?.csrfToken,
      loginHref: `/login?return_to=${encodeURIComponent(FORM_PATH)}&login_hint=${encodeURIComponent(email)}`,
      name: extra.name ?? '',
      password: extra.password ?? '',
      error: extra.error,
    },
    mode === 'other-address' ? 403 : status,
  )
}

export function invitationRoutes(app: FastifyInstance, ctx: AppContext): void {
  void app.register(async (pages) => {
    // The token in the address of these pages must not leave in a Referer (RFC 9110 §10.1.3).
    pages.addHook('onSend', async (_request, reply) => {
      reply.header('Referrer-Policy', 'no-referrer')
    })

    pages.get<{ Params: { token: string } }>(
      '/invitations/:token',
      { schema: { params: { type: 'object', properties: { token: { type: 'string', maxLength: 200 } }, required: ['token'] } } },
      async (request, reply) => {
        try {
          const formToken = await exchangeInvitationLink(ctx.db, request.params.token, ctx.clock())
          reply.setCookie(FORM_COOKIE, formToken, {
            path: FORM_PATH,
            httpOnly: true,
            sameSite: 'lax',
            secure: ctx.config.issuer.startsWith('https:'),
            maxAge: 30 * 60,
          })
          return reply.redirect(FORM_PATH, 303)
        } catch (err) {
          return sendProblem(ctx, request, reply, err)
        }
      },
    )

    pages.get(FORM_PATH, async (request, reply) => {
      try {
        return await sendInvitationPage(ctx, request, reply, request.cookies[FORM_COOKIE] ?? '')
      } catch (err) {
        return sendProblem(ctx, request, reply, err)
      }
    })

    pages.post<{ Body: AcceptBody }>(FORM_PATH, { schema: { body: acceptBodySchema } }, async (request, reply) => {
      const body = request.body ?? {}
      const formToken = body.invitation ?? ''
      const session = await currentSession(ctx, request)
      try {
        if (session) {
          checkSessionCsrf(ctx, session, body._csrf)
          const team = await acceptAsUser(deps(ctx), formToken, session.user, request.ip)
          await switchTeam(ctx.db, session.id, session.user.id, team.id)
          reply.clearCookie(FORM_COOKIE, { path: FORM_PATH })
          return reply.redirect('/team/members', 303)
        }
        const { user } = await acceptAsNewUser(deps(ctx), formToken, { name: body.name ?? '', password: body.password ?? '' }, request.ip)
        reply.clearCookie(FORM_COOKIE, { path: FORM_PATH })
        return reply.redirect(`/login?return_to=${encodeURIComponent('/team/members')}&login_hint=${encodeURIComponent(user.email)}`, 303)
      } catch (err) {
        if (err instanceof Refusal && PROBLEM_TITLES[err.code]) return sendProblem(ctx, request, reply, err)
        if (!(err instanceof Refusal) || err.code === 'csrf_failed' || err.status >= 500) throw err
        try {
          return await sendInvitationPage(
            ctx,
            request,
            reply,
            formToken,
            { error: err.message, name: body.name ?? '', password: body.password ?? '' },
            err.status,
          )
        } catch (again) {
          return sendProblem(ctx, request, reply, again)
        }
      }
    })
  })
}
