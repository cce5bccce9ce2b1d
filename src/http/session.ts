import type { FastifyReply, FastifyRequest } from 'fastify'
import { csrfTokenFor, isValidCsrfToken, loadSession, noteSessionUse, SESSION_TTL_MS, type LoadedSession, type SessionClient } from '../accounts/sessions.js'
import type { AppContext } from '../context.js'
import { hmac, randomSecret, safeEqual } from '../crypto/random.js'
import { Refusal } from '../messages.js'

export interface PortalSession extends LoadedSession {
  id: string
  csrfToken: string
}

const LOGIN_COOKIE_TTL_S = 60 * 60
/** The session cookie outlives its session by this much, so the login page can say the session expired rather than greet a stranger. */
const EXPIRED_NOTICE_S = 7 * 24 * 60 * 60

function secure(ctx: AppContext): boolean {
  return ctx.config.issuer.startsWith('https:')
}

/** `__Host-` pins the cookie to this host and path / when it can be Secure. */
export function sessionCookieName(ctx: AppContext): string {
  return secure(ctx) ? '__Host-gatehouse_session' : 'gatehouse_session'
}

function loginCookieName(ctx: AppContext): string {
  return secure(ctx) ? '__Host-gatehouse_login' : 'gatehouse_login'
}

function secondStepCookieName(ctx: AppContext): string {
  return secure(ctx) ? '__Host-gatehouse_second_step' : 'gatehouse_second_step'
}

/** How long the second step of a login may take after the password. */
const SECOND_STEP_TTL_MS = 5 * 60 * 1000

function secondStepMac(ctx: AppContext, userId: number, at: number): string {
  return hmac(ctx.keys.csrf, `second-step:${userId}:${at}`)
}

/**
 * The password was right and a second factor is due: who, and since when,
 * signed so it cannot be made up. No session exists until the second step.
 */
export function setSecondStepCookie(ctx: AppContext, reply: FastifyReply, userId: number): void {
  const at = ctx.clock()
  reply.setCookie(secondStepCookieName(ctx), `${userId}.${at}.${secondStepMac(ctx, userId, at)}`, cookieOptions(ctx, SECOND_STEP_TTL_MS / 1000))
}

/** The user whose password was just right, if the cookie is genuine and recent. */
export function secondStepUserId(ctx: AppContext, request: FastifyRequest): number | undefined {
  const [user, at, mac] = (request.cookies[secondStepCookieName(ctx)] ?? '').split('.')
  const userId = Number(user)
  const time = Number(at)
  if (!Number.isSafeInteger(userId) || !Number.isSafeInteger(time) || mac === undefined) return undefined
  if (!safeEqual(mac, secondStepMac(ctx, userId, time)) || ctx.clock() - time > SECOND_STEP_TTL_MS) return undefined
  return userId
}

export function clearSecondStepCookie(ctx: AppContext, reply: FastifyReply): void {
  reply.clearCookie(secondStepCookieName(ctx), { path: '/' })
}

function cookieOptions(ctx: AppContext, maxAgeSeconds: number) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: secure(ctx), maxAge: maxAgeSeconds }
}

const loaded = new WeakMap<FastifyRequest, Promise<PortalSession | undefined>>()

/** The logged-in session of the request, loaded once per request. */
export function currentSession(ctx: AppContext, request: FastifyRequest): Promise<PortalSession | undefined> {
  let session = loaded.get(request)
  if (!session) {
    session = load(ctx, request)
    loaded.set(request, session)
  }
  return session
}

async function load(ctx: AppContext, request: FastifyRequest): Promise<PortalSession | undefined> {
  const id = request.cookies[sessionCookieName(ctx)]
  if (!id) return undefined
  const now = ctx.clock()
  const session = await loadSession(ctx.db, id, now)
  if (!session) return undefined
  await noteSessionUse(ctx.db, id, session, now, request.ip)
  return { ...session, id, csrfToken: csrfTokenFor(ctx.keys.csrf, id) }
}

/** The browser of the request, for the session it logs in to. */
export function sessionClientOf(request: FastifyRequest): SessionClient {
  return { userAgent: request.headers['user-agent'], address: request.ip }
}

export function setSessionCookie(ctx: AppContext, reply: FastifyReply, id: string): void {
  reply.setCookie(sessionCookieName(ctx), id, cookieOptions(ctx, SESSION_TTL_MS / 1000 + EXPIRED_NOTICE_S))
  reply.clearCookie(loginCookieName(ctx), { path: '/' })
}

export function clearSessionCookie(ctx: AppContext, reply: FastifyReply): void {
  reply.clearCookie(sessionCookieName(ctx), { path: '/' })
}

/**
 * The login form has no session yet; its CSRF token is bound to a random
 * pre-login cookie instead, so a third-party page cannot log a victim in to
 * the attacker's account.
 */
export function loginCsrfToken(ctx: AppContext, request: FastifyRequest, reply: FastifyReply): string {
  let nonce = request.cookies[loginCookieName(ctx)]
  if (!nonce) {
    nonce = randomSecret(16)
    reply.setCookie(loginCookieName(ctx), nonce, cookieOptions(ctx, LOGIN_COOKIE_TTL_S))
  }
  return csrfTokenFor(ctx.keys.csrf, `login:${nonce}`)
}

export function checkLoginCsrf(ctx: AppContext, request: FastifyRequest, token: unknown): void {
  const nonce = request.cookies[loginCookieName(ctx)]
  if (!nonce || !isValidCsrfToken(ctx.keys.csrf, `login:${nonce}`, token)) throw new Refusal('csrf_failed', 403)
}

export function checkSessionCsrf(ctx: AppContext, session: PortalSession, token: unknown): void {
  if (!isValidCsrfToken(ctx.keys.csrf, session.id, token)) throw new Refusal('csrf_failed', 403)
}
