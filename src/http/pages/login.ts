import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ACR, acrOf, hasSecondFactor } from '../../accounts/assurance.js'
import { checkSecondFactor, hasFactor, SecondFactorThrottled } from '../../accounts/factors.js'
import { authenticate } from '../../accounts/login.js'
import { finishPasskeyLogin, startPasskeyLogin } from '../../accounts/passkeys.js'
import { endSession, renewLogin, startSession } from '../../accounts/sessions.js'
import type { User } from '../../accounts/types.js'
import type { AppContext } from '../../context.js'
import { listPasskeysOfUser } from '../../db/passkeys.js'
import { findUserById } from '../../db/users.js'
import { findClient } from '../../clients/clients.js'
import { Refusal } from '../../messages.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import { safeLocalPath } from '../local-path.js'
import {
  checkLoginCsrf,
  checkSessionCsrf,
  clearSecondStepCookie,
  clearSessionCookie,
  currentSession,
  loginCsrfToken,
  secondStepUserId,
  sessionClientOf,
  setSecondStepCookie,
  setSessionCookie,
} from '../session.js'
import { answerJson } from './json-answer.js'
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

interface CodeBody {
  code?: string
  return_to?: string
  _csrf?: string
}

const codeBodySchema = {
  type: 'object',
  properties: {
    code: { type: 'string', maxLength: 64 },
    return_to: { type: 'string', maxLength: 4096 },
    _csrf: { type: 'string', maxLength: 200 },
  },
} as const

interface PasskeyBody {
  purpose?: string
  challenge_id?: string
  response?: unknown
  return_to?: string
  _csrf?: string
}

const passkeyBodySchema = {
  type: 'object',
  properties: {
    purpose: { type: 'string', enum: ['second-step', 'passwordless'] },
    challenge_id: { type: 'string', maxLength: 100 },
    response: { type: 'object' },
    return_to: { type: 'string', maxLength: 4096 },
    _csrf: { type: 'string', maxLength: 200 },
  },
} as const

const PASSKEY_PATH = '/login/passkey'

/** The second step of a login, and of a step-up from a session signed in with the password alone. */
export const SECOND_STEP_PATH = '/login/code'

/**
 * The login is complete: the same user logging in again keeps the session
 * (and the apps signed in with it) with the new login time and methods;
 * anyone else's session ends.
 */
async function signIn(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, user: User, amr: string[], returnTo: string): Promise<FastifyReply> {
  await establishLogin(ctx, request, reply, user, amr)
  return reply.redirect(returnTo, 303)
}

async function establishLogin(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, user: User, amr: string[]): Promise<void> {
  const previous = await currentSession(ctx, request)
  const renewed = previous?.user.id === user.id ? await renewLogin(ctx.db, previous.id, ctx.clock(), sessionClientOf(request), amr) : undefined
  if (previous && !renewed) {
    const ended = await endSession(ctx.db, previous.id)
    if (ended) ctx.backchannel.sessionsEnded([ended])
  }
  const session = renewed ?? (await startSession(ctx.db, user, ctx.clock(), sessionClientOf(request), amr))
  setSessionCookie(ctx, reply, session.id)
  clearSecondStepCookie(ctx, reply)
}

/**
 * Who the second step is for: the user whose password was just right, or the
 * user of a session signed in with the password alone who must step up.
 */
async function secondStepUser(ctx: AppContext, request: FastifyRequest): Promise<User | undefined> {
  const pending = secondStepUserId(ctx, request)
  if (pending !== undefined) {
    const user = await findUserById(ctx.db.kysely, pending)
    return user && !user.isDisabled ? user : undefined
  }
  const session = await currentSession(ctx, request)
  // A session with an app code may still step up to a passkey (acr phishing-resistant).
  if (!session || acrOf(session.amr) === ACR.phishingResistant || !(await hasFactor(ctx, session.user.id))) return undefined
  if (hasSecondFactor(session.amr) && (await listPasskeysOfUser(ctx.db.kysely, session.user.id)).length === 0) return undefined
  return session.user
}

function minutesUntil(seconds: number): string {
  const minutes = Math.ceil(seconds / 60)
  return minutes === 1 ? '1 minute' : `${minutes} minutes`
}

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
  // expired=1: the session ended while a page was open (see the session guard). confirm=1: a change to how the user signs in.
  app.get<{ Querystring: { return_to?: string; reauthenticate?: string; login_hint?: string; expired?: string; confirm?: string } }>(
    '/login',
    async (request, reply) => {
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
        confirming: session !== undefined && request.query.confirm === '1',
        signupOpen: ctx.config.signup === 'open',
        appName: await appSignedInTo(ctx, returnTo),
      })
    },
  )

  app.post<{ Body: LoginBody }>('/login', { schema: { body: loginBodySchema } }, async (request, reply) => {
    const body = request.body ?? {}
    const returnTo = safeLocalPath(body.return_to)
    const email = body.email ?? ''
    try {
      checkLoginCsrf(ctx, request, body._csrf)
      const user = await authenticate(ctx.db, ctx.activity, email, body.password ?? '', request.ip, ctx.clock(), ctx.config.loginThrottle)
      if (await hasFactor(ctx, user.id)) {
        setSecondStepCookie(ctx, reply, user.id)
        return reply.redirect(`${SECOND_STEP_PATH}?return_to=${encodeURIComponent(returnTo)}`, 303)
      }
      return await signIn(ctx, request, reply, user, ['pwd'], returnTo)
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

  app.get<{ Querystring: { return_to?: string } }>(SECOND_STEP_PATH, async (request, reply) => {
    const returnTo = safeLocalPath(request.query.return_to)
    const user = await secondStepUser(ctx, request)
    if (!user) return reply.redirect(`/login?return_to=${encodeURIComponent(returnTo)}`, 303)
    const hasPasskey = (await listPasskeysOfUser(ctx.db.kysely, user.id)).length > 0
    return sendPage(ctx, request, reply, 'second-factor', { returnTo, csrf: loginCsrfToken(ctx, request, reply), hasPasskey })
  })

  app.post<{ Body: CodeBody }>(SECOND_STEP_PATH, { schema: { body: codeBodySchema } }, async (request, reply) => {
    const body = request.body ?? {}
    const returnTo = safeLocalPath(body.return_to)
    try {
      checkLoginCsrf(ctx, request, body._csrf)
      const user = await secondStepUser(ctx, request)
      if (!user) throw new Refusal('second_factor_expired', 401)
      const amr = await checkSecondFactor(ctx, user, body.code ?? '', request.ip)
      return await signIn(ctx, request, reply, user, amr, returnTo)
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      const retry = err instanceof SecondFactorThrottled ? `Try again in ${minutesUntil(err.retryAfter)}.` : undefined
      if (err instanceof SecondFactorThrottled) reply.header('Retry-After', String(err.retryAfter))
      return sendPage(
        ctx,
        request,
        reply,
        'second-factor',
        {
          returnTo,
          csrf: loginCsrfToken(ctx, request, reply),
          error: retry ? `${err.message} ${retry}` : err.message,
          expired: err.code === 'second_factor_expired',
          hasPasskey: (await listPasskeysOfUser(ctx.db.kysely, (await secondStepUser(ctx, request))?.id ?? 0)).length > 0,
        },
        err.status,
      )
    }
  })

  // Passkeys, from the login page (passwordless) and the second step; JSON for the page's script.
  app.post<{ Body: PasskeyBody }>(`${PASSKEY_PATH}/options`, { schema: { body: passkeyBodySchema } }, async (request, reply) =>
    answerJson(reply, async () => {
      const body = request.body ?? {}
      checkLoginCsrf(ctx, request, body._csrf)
      const purpose = body.purpose === 'second-step' ? 'second-step' : 'passwordless'
      const user = purpose === 'second-step' ? await secondStepUser(ctx, request) : undefined
      if (purpose === 'second-step' && !user) throw new Refusal('second_factor_expired', 401)
      return startPasskeyLogin(ctx, purpose, body._csrf ?? '', user)
    }),
  )

  app.post<{ Body: PasskeyBody }>(PASSKEY_PATH, { schema: { body: passkeyBodySchema } }, async (request, reply) =>
    answerJson(reply, async () => {
      const body = request.body ?? {}
      checkLoginCsrf(ctx, request, body._csrf)
      const purpose = body.purpose === 'second-step' ? 'second-step' : 'passwordless'
      if (purpose === 'second-step' && !(await secondStepUser(ctx, request))) throw new Refusal('second_factor_expired', 401)
      const { user, amr } = await finishPasskeyLogin(
        ctx,
        purpose,
        body._csrf ?? '',
        { challengeId: body.challenge_id ?? '', response: body.response },
        request.ip,
      )
      await establishLogin(ctx, request, reply, user, amr)
      return { redirect: safeLocalPath(body.return_to) }
    }),
  )

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
