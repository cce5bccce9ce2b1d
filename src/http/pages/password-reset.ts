import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { exchangeLink } from '../../accounts/links.js'
import { requestPasswordReset, resetLinkUser, resetPassword } from '../../accounts/password-reset.js'
import { startSession } from '../../accounts/sessions.js'
import type { AppContext } from '../../context.js'
import { Refusal } from '../../messages.js'
import { checkLoginCsrf, loginCsrfToken, setSessionCookie } from '../session.js'
import { sendPage } from './page.js'

const RESET_COOKIE = 'gatehouse_reset'
const LINK_PROBLEMS = new Set(['link_unknown', 'link_used', 'link_expired', 'link_stale'])

const forgotBodySchema = {
  type: 'object',
  properties: { email: { type: 'string', maxLength: 320 }, _csrf: { type: 'string', maxLength: 200 } },
} as const

const resetBodySchema = {
  type: 'object',
  properties: { password: { type: 'string', maxLength: 2048 }, _csrf: { type: 'string', maxLength: 200 } },
} as const

/** A page reached with a token in its address says nothing of it to the next site (Referer). */
function noReferrer(reply: FastifyReply): void {
  reply.header('Referrer-Policy', 'no-referrer')
}

/** Expired, used or altered links: a page that says which and offers a new one, never an error. */
export function sendLinkProblem(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, err: Refusal, retryHref: string): Promise<FastifyReply> {
  return sendPage(ctx, request, reply, 'link-problem', { title: 'This link does not work', message: err.message, retryHref }, err.status)
}

function resetCookieOptions(ctx: AppContext) {
  return { path: '/reset', httpOnly: true, sameSite: 'lax' as const, secure: ctx.config.issuer.startsWith('https:'), maxAge: 15 * 60 }
}

/**
 * "Forgot your password?" and the link it mails: the link's token is
 * exchanged on first view for a form token in a cookie, so the address bar
 * shows /reset only.
 */
export function passwordResetRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: { email?: string } }>('/login/forgot', async (request, reply) => {
    const email = typeof request.query.email === 'string' ? request.query.email.slice(0, 320) : ''
    const unavailable = ctx.mail.canSend ? undefined : new Refusal('mail_unavailable', 503).message
    return sendPage(ctx, request, reply, 'forgot', { title: 'Reset your password', csrf: loginCsrfToken(ctx, request, reply), email, unavailable })
  })

  app.post<{ Body: { email?: string; _csrf?: string } }>('/login/forgot', { schema: { body: forgotBodySchema } }, async (request, reply) => {
    const email = (request.body?.email ?? '').trim()
    try {
      checkLoginCsrf(ctx, request, request.body?._csrf)
      await requestPasswordReset({ ...ctx, sessionsEnded: (ended) => ctx.backchannel.sessionsEnded(ended) }, email, request.ip)
      return sendPage(ctx, request, reply, 'forgot-sent', { title: 'Check your mail', email })
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      return sendPage(
        ctx,
        request,
        reply,
        'forgot',
        { title: 'Reset your password', csrf: loginCsrfToken(ctx, request, reply), email, error: err.message },
        err.status,
      )
    }
  })

  app.get<{ Params: { token: string } }>('/reset/:token', async (request, reply) => {
    noReferrer(reply)
    try {
      const formToken = await exchangeLink(ctx.db.kysely, request.params.token.slice(0, 200), 'reset', ctx.clock())
      reply.setCookie(RESET_COOKIE, formToken, resetCookieOptions(ctx))
      return reply.redirect('/reset', 303)
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      return sendLinkProblem(ctx, request, reply, err, '/login/forgot')
    }
  })

  app.get('/reset', async (request, reply) => {
    noReferrer(reply)
    try {
      const user = await resetLinkUser(ctx, request.cookies[RESET_COOKIE] ?? '')
      return sendPage(ctx, request, reply, 'reset', { title: 'Choose a new password', csrf: loginCsrfToken(ctx, request, reply), email: user.email })
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      return sendLinkProblem(ctx, request, reply, err, '/login/forgot')
    }
  })

  app.post<{ Body: { password?: string; _csrf?: string } }>('/reset', { schema: { body: resetBodySchema } }, async (request, reply) => {
    noReferrer(reply)
    const formToken = request.cookies[RESET_COOKIE] ?? ''
    const password = request.body?.password ?? ''
    try {
      checkLoginCsrf(ctx, request, request.body?._csrf)
      const user = await resetPassword({ ...ctx, sessionsEnded: (ended) => ctx.backchannel.sessionsEnded(ended) }, formToken, password, request.ip)
      reply.clearCookie(RESET_COOKIE, { path: '/reset' })
      const session = await startSession(ctx.db, user, ctx.clock())
      setSessionCookie(ctx, reply, session.id)
      return reply.redirect('/account?done=password_reset', 303)
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      if (LINK_PROBLEMS.has(err.code)) return sendLinkProblem(ctx, request, reply, err, '/login/forgot')
      const user = await resetLinkUser(ctx, formToken).catch(() => undefined)
      return sendPage(
        ctx,
        request,
        reply,
        'reset',
        { title: 'Choose a new password', csrf: loginCsrfToken(ctx, request, reply), email: user?.email ?? '', password, error: err.message },
        err.status,
      )
    }
  })
}
