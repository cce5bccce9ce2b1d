import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { hmac, safeEqual } from '../../crypto/random.js'
import { AUTHORIZATION_TITLES, MESSAGES } from '../../messages.js'
import { isLoopbackHost } from '../../clients/redirect-uris.js'
import { isSelfRegistered } from '../../clients/types.js'
import {
  approve,
  errorFields,
  hasConsent,
  isLoginFresh,
  parseAuthorizationRequest,
  requestedResources,
  resolveRedirect,
  responseFields,
  responseModeOf,
  responseRedirect,
  UntrustedRedirectError,
  type Approver,
  type AuthorizationRequest,
  type ResponseMode,
} from '../../oauth/authorize/request.js'
import { ConsentFormError, holdForConsent, requestParameters, takeConsentForm, type RequestParameters } from '../../consent/forms.js'
import { AccessDenied, ConsentRequired, InteractionRequired, LoginRequired, OAuthError } from '../../protocol/errors.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import type { RawParams } from '../../protocol/params.js'
import { SCOPES } from '../../protocol/scopes.js'
import { readIdTokenHint } from '../../oidc/id-token.js'
import { checkSessionCsrf, currentSession, type PortalSession } from '../session.js'
import { sendPage } from '../pages/page.js'

/**
 * Added to the request when it sends the user to log in again (prompt=login,
 * max_age): when the login was asked for, signed so that nobody can claim a
 * login was asked for earlier than it was; valid for ten minutes.
 */
const LOGIN_REQUESTED = 'login_requested'
const LOGIN_REQUEST_TTL_MS = 10 * 60 * 1000

function loginRequestMac(ctx: AppContext, clientId: string, at: number): string {
  return hmac(ctx.keys.csrf, `login-requested:${clientId}:${at}`)
}

function loginRequestedAt(ctx: AppContext, authorization: AuthorizationRequest, params: RawParams): number | undefined {
  const value = params[LOGIN_REQUESTED]
  if (typeof value !== 'string') return undefined
  const [at, mac] = value.split('.')
  const time = Number(at)
  if (!Number.isSafeInteger(time) || mac === undefined || !safeEqual(mac, loginRequestMac(ctx, authorization.client.id, time))) return undefined
  return ctx.clock() - time <= LOGIN_REQUEST_TTL_MS ? time : undefined
}

function scopeOfResource(authorization: AuthorizationRequest, scope: string): string {
  const names = authorization.resources.filter((r) => r.scopes.includes(scope)).map((r) => r.name)
  return `Defined by ${names.join(', ')}`
}

function approverOf(session: PortalSession, teamId: number, address: string): Approver {
  return { userId: session.user.id, teamId, sid: session.sid, authenticatedAt: session.authenticatedAt, sessionExpiresAt: session.expiresAt, address }
}

/**
 * The answer to the client: a redirect (response_mode=query) or a form the
 * browser posts at once (OAuth 2.0 Form Post Response Mode), so the code
 * stays out of the URL.
 */
function respond(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  to: { redirectUri: string; responseMode: ResponseMode },
  fields: Record<string, string | undefined>,
) {
  if (to.responseMode === 'form_post') {
    return sendPage(ctx, request, reply, 'form-post', {
      title: 'Signing you in',
      action: to.redirectUri,
      fields: responseFields(ctx, fields).map(([name, value]) => ({ name, value })),
    })
  }
  return reply.redirect(responseRedirect(ctx, to.redirectUri, fields), 302)
}

function respondWithError(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, authorization: AuthorizationRequest, error: OAuthError) {
  return respond(ctx, request, reply, authorization, errorFields(error, authorization.state))
}

type Outcome = { request: AuthorizationRequest } | { reply: FastifyReply }

async function checkRequest(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, params: RawParams): Promise<Outcome> {
  let resolved
  try {
    resolved = await resolveRedirect(ctx, params)
  } catch (err) {
    if (!(err instanceof UntrustedRedirectError)) throw err
    // Never redirect to a client or URL we cannot vouch for (no open redirector).
    return { reply: await sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.invalid, message: err.message }, 400) }
  }
  try {
    const resources = await requestedResources(ctx, params)
    return { request: parseAuthorizationRequest(resolved.client, resolved.redirectUri, params, resources) }
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err
    const state = typeof params.state === 'string' ? params.state : undefined
    return { reply: await respond(ctx, request, reply, { redirectUri: resolved.redirectUri, responseMode: responseModeOf(params) }, errorFields(err, state)) }
  }
}

/** The authorization request as a GET path with the parameters given, those named in `leaveOut` left out. */
function authorizationPath(params: RawParams, leaveOut: readonly string[] = []): string {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (leaveOut.includes(name)) continue
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') query.append(name, v)
  }
  return `${ENDPOINTS.authorization}?${query.toString()}`
}

/** The authorization request as a GET path, from the query it came with or the request kept for a consent form. */
function requestPath(request: FastifyRequest, params: RawParams): string {
  if (request.method === 'GET' && !Object.hasOwn(params, LOGIN_REQUESTED)) return request.url
  // A new mark replaces the one the request came back with.
  return authorizationPath(params, [LOGIN_REQUESTED])
}

/**
 * Fields only the consent form posts. The authorization endpoint takes two
 * kinds of POST: the decision from that form, and an authorization request
 * sent by POST (OpenID Connect Core §3.1.2.1), which carries none of them.
 */
const CONSENT_FORM_FIELDS = ['_csrf', 'request_id', 'team_id', 'decision']

function isConsentDecision(posted: RawParams): boolean {
  return CONSENT_FORM_FIELDS.some((name) => Object.hasOwn(posted, name))
}

/** To the login page, and back to this request afterwards; a forced login is marked so it is not asked for again on return. */
function sendToLogin(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, authorization: AuthorizationRequest, params: RawParams, again: boolean) {
  let back = requestPath(request, params)
  if (again) {
    const now = ctx.clock()
    back += `&${LOGIN_REQUESTED}=${now}.${loginRequestMac(ctx, authorization.client.id, now)}`
  }
  let login = `/login?return_to=${encodeURIComponent(back)}`
  if (again) login += '&reauthenticate=1'
  if (authorization.loginHint !== undefined) login += `&login_hint=${encodeURIComponent(authorization.loginHint)}`
  return reply.redirect(login, 303)
}

/** Keeps the request on the server and shows it; the form carries the kept request's id and its parameters. */
async function consentPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PortalSession & { activeTeam: NonNullable<PortalSession['activeTeam']> },
  authorization: AuthorizationRequest,
  parameters: RequestParameters,
) {
  const requestId = await holdForConsent(ctx, session.id, { clientId: authorization.client.id, teamId: session.activeTeam.id, parameters })
  // `resource` may repeat (RFC 8707 §2); every value is carried.
  const carried = Object.entries(parameters).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => ({ name, value: v })))
  return sendPage(ctx, request, reply, 'consent', {
    title: AUTHORIZATION_TITLES.consent(authorization.client.name),
    client: authorization.client,
    team: session.activeTeam,
    scopes: authorization.scopes.map((s) => ({ name: s, description: SCOPES[s] ?? scopeOfResource(authorization, s) })),
    resources: authorization.resources.map((r) => ({ name: r.name, uri: r.uri })),
    unverified: isSelfRegistered(authorization.client)
      ? {
          redirectHost: new URL(authorization.redirectUri).host,
          runsLocally: authorization.client.redirectUris.every((uri) => isLoopbackHost(new URL(uri).hostname)),
          clientIdHost: authorization.client.kind === 'metadata_document' ? new URL(authorization.client.id).host : undefined,
        }
      : undefined,
    requestId,
    carried,
    csrf: session.csrfToken,
    action: ENDPOINTS.authorization,
  })
}

/** OpenID Connect Core §3.1.2.6: with prompt=none, every reason a page would be shown is an error instead. */
async function withoutPrompt(ctx: AppContext, authorization: AuthorizationRequest, session: PortalSession | undefined): Promise<OAuthError | PortalSession> {
  if (!session) return new LoginRequired()
  if (authorization.idTokenHint !== undefined) {
    const hint = await readIdTokenHint(ctx.keyRing, ctx.config.issuer, authorization.idTokenHint)
    if (!hint || hint.userId !== session.user.id) return new LoginRequired('The user signed in is not the one the id_token_hint names.')
  }
  if (!isLoginFresh(authorization, session.authenticatedAt, ctx.clock(), undefined)) return new LoginRequired('The login is older than max_age allows.')
  if (!session.activeTeam) return new InteractionRequired(MESSAGES.no_active_team)
  if (!(await hasConsent(ctx, authorization, session.user.id, session.activeTeam.id))) return new ConsentRequired()
  return session
}

export function authorizeRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(ENDPOINTS.authorization, async (request, reply) => {
    const params = request.query as RawParams
    const checked = await checkRequest(ctx, request, reply, params)
    if ('reply' in checked) return checked.reply
    const authorization = checked.request
    const current = await currentSession(ctx, request)
    if (authorization.noPrompt) {
      const verdict = await withoutPrompt(ctx, authorization, current)
      if (verdict instanceof OAuthError) return respondWithError(ctx, request, reply, authorization, verdict)
      const code = await approve(ctx, authorization, approverOf(verdict, verdict.activeTeam!.id, request.ip))
      return respond(ctx, request, reply, authorization, { code, state: authorization.state })
    }
    if (!current) return sendToLogin(ctx, request, reply, authorization, params, false)
    if (!isLoginFresh(authorization, current.authenticatedAt, ctx.clock(), loginRequestedAt(ctx, authorization, params))) {
      return sendToLogin(ctx, request, reply, authorization, params, true)
    }
    const session = current
    const team = session.activeTeam
    if (!team) return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.noTeam, message: MESSAGES.no_active_team }, 403)
    if (await hasConsent(ctx, authorization, session.user.id, team.id)) {
      const code = await approve(ctx, authorization, approverOf(session, team.id, request.ip))
      return respond(ctx, request, reply, authorization, { code, state: authorization.state })
    }
    return consentPage(ctx, request, reply, { ...session, activeTeam: team }, authorization, requestParameters(params))
  })

  app.post<{ Body: RawParams }>(ENDPOINTS.authorization, async (request, reply) => {
    const posted = typeof request.body === 'object' && request.body !== null ? request.body : {}
    // An authorization request sent by POST becomes the same request by GET. The
    // session cookie is SameSite=Lax, so a form posted from the client's site
    // arrives without it; on the GET it is sent, and the user is not asked to
    // log in again, nor told login_required under prompt=none.
    if (!isConsentDecision(posted)) return reply.redirect(authorizationPath(posted), 303)
    const session = await currentSession(ctx, request)
    if (!session)
      return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.sessionEnded, message: MESSAGES.authorization_session_ended }, 401)
    checkSessionCsrf(ctx, session, posted._csrf)
    let form
    try {
      form = await takeConsentForm(ctx, session.id, posted)
    } catch (err) {
      if (!(err instanceof ConsentFormError)) throw err
      return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.decisionRefused, message: err.message }, 400)
    }
    // The kept request is checked again: the client or its redirect URLs may have changed since the page was shown.
    const checked = await checkRequest(ctx, request, reply, form.parameters)
    if ('reply' in checked) return checked.reply
    const authorization = checked.request
    const team = session.activeTeam
    if (!team) return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.noTeam, message: MESSAGES.no_active_team }, 403)
    // The page was shown after a fresh enough login; a form posted without one does not stand in for it.
    if (!isLoginFresh(authorization, session.authenticatedAt, ctx.clock(), loginRequestedAt(ctx, authorization, form.parameters))) {
      return sendToLogin(ctx, request, reply, authorization, form.parameters, true)
    }
    // The page named one team; if another became active since (another tab), ask again for that one.
    if (team.id !== form.teamId) return consentPage(ctx, request, reply, { ...session, activeTeam: team }, authorization, form.parameters)
    if (posted.decision !== 'approve') return respondWithError(ctx, request, reply, authorization, new AccessDenied())
    const code = await approve(ctx, authorization, { ...approverOf(session, team.id, request.ip), onConsentPage: true })
    return respond(ctx, request, reply, authorization, { code, state: authorization.state })
  })
}
