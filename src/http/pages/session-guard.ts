import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasSecondFactor } from '../../accounts/assurance.js'
import { hasFactor } from '../../accounts/factors.js'
import type { Team } from '../../accounts/types.js'
import type { AppContext } from '../../context.js'
import { Refusal } from '../../messages.js'
import { safeLocalPath } from '../local-path.js'
import { checkSessionCsrf, currentSession, sessionCookieName, type PortalSession } from '../session.js'

/** The session of the developer settings and team pages, which all act in the active team. */
export type TeamSession = PortalSession & { activeTeam: Team }

const guarded = new WeakMap<FastifyRequest, PortalSession>()

/**
 * The login page, coming back here afterwards: to this page, or for a form
 * sent after the session ended, to the page the form was on.
 */
function toLogin(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const formPage = request.method === 'POST' ? (request.body as { _page?: unknown } | undefined)?._page : undefined
  const returnTo = formPage === undefined ? request.url : safeLocalPath(formPage)
  // A form is only ever shown to a session, and a cookie outlives its session: either means it expired.
  const expired = request.method === 'POST' || request.cookies[sessionCookieName(ctx)] !== undefined
  return reply.redirect(`/login?return_to=${encodeURIComponent(returnTo)}${expired ? '&expired=1' : ''}`, 303)
}

/**
 * A team that requires two-factor sign-in: a member without a second factor
 * is sent to add one (their other teams stay open to them), and a form acts
 * only in a session signed in with it: one with the password alone steps up.
 */
async function twoFactorDemand(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, session: PortalSession): Promise<FastifyReply | undefined> {
  if (!session.activeTeam?.requiresTwoFactor || hasSecondFactor(session.amr)) return undefined
  if (!(await hasFactor(ctx, session.user.id))) return reply.redirect('/account/security?required=team', 303)
  if (request.method !== 'POST') return undefined
  const formPage = (request.body as { _page?: unknown } | undefined)?._page
  return reply.redirect(`/login/code?return_to=${encodeURIComponent(safeLocalPath(formPage))}`, 303)
}

/**
 * In front of every page behind the login: no session goes to the login
 * page; the team pages refuse a session without an active team, and follow
 * its demand for two-factor sign-in; a form acts only with the session's
 * CSRF token.
 */
function sessionGuard(ctx: AppContext, needsTeam: boolean) {
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const session = await currentSession(ctx, request)
    if (!session) return toLogin(ctx, request, reply)
    if (needsTeam && !session.activeTeam) throw new Refusal('no_active_team', 403)
    if (request.method === 'POST') checkSessionCsrf(ctx, session, (request.body as { _csrf?: unknown } | undefined)?._csrf)
    if (needsTeam) {
      const demand = await twoFactorDemand(ctx, request, reply, session)
      if (demand) return demand
    }
    guarded.set(request, session)
    return undefined
  }
}

function guardedScope(app: FastifyInstance, ctx: AppContext, needsTeam: boolean, routes: (pages: FastifyInstance) => void): void {
  void app.register(async (pages) => {
    pages.addHook('preHandler', sessionGuard(ctx, needsTeam))
    routes(pages)
  })
}

/** Registers pages for anyone logged in, with or without a team. */
export function loggedInPages(app: FastifyInstance, ctx: AppContext, routes: (pages: FastifyInstance) => void): void {
  guardedScope(app, ctx, false, routes)
}

/** Registers pages that act in the active team. */
export function teamPages(app: FastifyInstance, ctx: AppContext, routes: (pages: FastifyInstance) => void): void {
  guardedScope(app, ctx, true, routes)
}

function notGuarded(request: FastifyRequest): Error {
  return new Error(`${request.method} ${request.routeOptions.url ?? request.url} is not registered behind the session guard`)
}

/** The session of a request to a page registered with `loggedInPages` or `teamPages`. */
export function sessionOf(request: FastifyRequest): PortalSession {
  const session = guarded.get(request)
  if (!session) throw notGuarded(request)
  return session
}

/** The session of a request to a page registered with `teamPages`. */
export function teamSessionOf(request: FastifyRequest): TeamSession {
  const session = sessionOf(request)
  if (!session.activeTeam) throw notGuarded(request)
  return session as TeamSession
}
