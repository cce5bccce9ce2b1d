import type { FastifyInstance } from 'fastify'
import { authenticate } from '../../accounts/login.js'
import { endSession, renewLogin, startSession } from '../../accounts/sessions.js'
import type { AppContext } from '../../context.js'
import { findClient } from '../../clients/clients.js'
import { Refusal } from '../../messages.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import { safeLocalPath } from '../local-path.js'
import { checkLoginCsrf, checkSessionCsrf, clearSessionCookie, currentSession, loginCsrfToken, sessionClientOf, setSessionCookie } from '../session.js'
import { sendPage } from './page.js'

interface LoginBody {
  email?: string
  password?: string
  return_to?: string
  _csrf?: string
}

const loginBodySchema = {
  type: 'object',
  properties: {
    email: { type: 'string', maxLength: 320 },
    password: { type: 'string', maxLength: 1024 },
    return_to: { type: 'string', maxLength: 4096 },
    _csrf: { type: 'string', maxLength: 200 },
  },
} as const

/**
 * The app a login during an authorization request leads to, by the name it
 * was registered with: read from the client on file, never from the query,
 * so no link can make the page claim another app.
 */
async function appSignedInTo(ctx: AppContext, returnTo: string): Promise<string | undefined> {
  const url = new URL(returnTo, ctx.config.issuer)
  const clientId = url.searchParams.get('client_id')
  if (url.pathname !== ENDPOINTS.authorization || clientId === null || clientId.length > 2000) return undefined
  return (await findClient(ctx.db, clientId))?.name
}

export function loginRoutes(app: FastifyInstance, ctx: AppContext): void {
  // OpenID Connect: reauthenticate=1 (prompt=login, max_age) shows the form to a logged-in user; login_hint fills in the e-mail.
  // expired=1: the session ended while a page was open (see the session guard).
  app.get<{ Querystring: { return_to?: string; reauthenticate?: string; login_hint?: string; expired?: string } }>('/login', async (request, reply) => {
    const returnTo = safeLocalPath(request.query.return_to)
    const session = await currentSession(ctx, request)
    if (session && request.query.reauthenticate !== '1') return reply.redirect(returnTo, 303)
    const hint = typeof request.query.login_hint === 'string' ? request.query.login_hint.slice(0, 320) : undefined
    const email = hint ?? session?.user.email ?? ''
    const expired = request.query.expired === '1'
    return sendPage(ctx, request, reply, 'login', {
      returnTo,
      csrf: loginCsrfToken(ctx, request, reply),
      email,
      expired,
      signupOpen: ctx.config.signup === 'open',
      appName: await appSignedInTo(ctx, returnTo),
    })
  })

  app.post<{ Body: LoginBody }>('/login', { schema: { body: loginBodySchema } }, async (request, reply) => {
    const body = request.body ?? {}
    const returnTo = safeLocalPath(body.return_to)
    const email = body.email ?? ''
    try {
      checkLoginCsrf(ctx, request, body._csrf)
      const user = await authenticate(ctx.db, ctx.activity, email, body.password ?? '', request.ip, ctx.clock(), ctx.config.loginThrottle)
      const previous = await currentSession(ctx, request)
      // The same user logging in again keeps the session (and the apps signed in with it); anyone else ends it.
      const renewed = previous?.user.id === user.id ? await renewLogin(ctx.db, previous.id, ctx.clock(), sessionClientOf(request)) : undefined
      if (previous && !renewed) {
        const ended = await endSession(ctx.db, previous.id)
        if (ended) ctx.backchannel.sessionsEnded([ended])
      }
      const session = renewed ?? (await startSession(ctx.db, user, ctx.clock(), sessionClientOf(request)))
      setSessionCookie(ctx, reply, session.id)
      return reply.redirect(returnTo, 303)
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      return sendPage(
        ctx,
        request,
        reply,
        'login',
        {
          returnTo,
          csrf: loginCsrfToken(ctx, request, reply),
          email,
          error: err.message,
          signupOpen: ctx.config.signup === 'open',
          appName: await appSignedInTo(ctx, returnTo),
        },
        err.status,
      )
    }
  })

  app.get('/logout', async (request, reply) => {
    const session = await currentSession(ctx, request)
    if (!session) return reply.redirect('/login', 303)
    return sendPage(ctx, request, reply, 'logout', { csrf: session.csrfToken })
  })

  app.post<{ Body: { _csrf?: string } }>('/logout', async (request, reply) => {
    const session = await currentSession(ctx, request)
    if (session) {
      checkSessionCsrf(ctx, session, request.body?._csrf)
      const ended = await endSession(ctx.db, session.id)
      if (ended) ctx.backchannel.sessionsEnded([ended])
    }
    clearSessionCookie(ctx, reply)
    return reply.redirect('/login', 303)
  })
}
