import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ACR, acrOf } from '../../accounts/assurance.js'
import { hasFactor } from '../../accounts/factors.js'
import type { AppContext } from '../../context.js'
import { AUTHORIZATION_TITLES, MESSAGES } from '../../messages.js'
import { findTeam } from '../../accounts/teams.js'
import { isLoopbackHost } from '../../clients/redirect-uris.js'
import { isSelfRegistered } from '../../clients/types.js'
import { approve, type Approver } from '../../oauth/authorize/approval.js'
import { decideAuthorization, decideOnConsentForm, errorAnswer, type Decision, type SignedIn } from '../../oauth/authorize/decision.js'
import { LOGIN_REQUESTED, loginRequestedAt, loginRequestedMark } from '../../oauth/authorize/login-requested.js'
import { loginStateOf } from '../../oauth/authorize/login-state.js'
import {
  parseAuthorizationRequest,
  requestedResources,
  resolveRedirect,
  responseModeOf,
  UntrustedRedirectError,
  type AuthorizationRequest,
} from '../../oauth/authorize/request.js'
import { authorizationResponse, errorFields, type ResponseTarget } from '../../oauth/authorize/response.js'
import { askedOnPage, readConsent } from '../../consent/remembered.js'
import { ConsentFormError, holdForConsent, requestParameters, takeConsentForm, type RequestParameters } from '../../consent/forms.js'
import { AccessDenied, OAuthError } from '../../protocol/errors.js'
import { ENDPOINTS } from '../../oauth/metadata.js'
import type { RawParams } from '../../protocol/params.js'
import { SCOPES } from '../../protocol/scopes.js'
import { checkSessionCsrf, currentSession, type PortalSession } from '../session.js'
import { listPasskeysOfUser } from '../../db/passkeys.js'
import { SECOND_STEP_PATH } from '../pages/login.js'
import { sendPage } from '../pages/page.js'
import { consents } from '../../observability/metrics.js'
import { withNamesText } from '../views.js'

/**
 * What a scope lets the app do, in words: Gatehouse's own, or as the
 * resource that defines it describes it. A scope registered without words
 * is named, with the resources that define it.
 */
function scopeInWords(authorization: AuthorizationRequest, scope: string): string {
  const own = SCOPES[scope]
  if (own !== undefined) return own
  const defining = authorization.resources.filter((r) => r.scopes.includes(scope))
  const described = defining.map((r) => r.scopeDescriptions[scope]).find((words) => words !== undefined)
  return described ?? `Use ${defining.map((r) => r.name).join(', ')} with the permission “${scope}”`
}

function signedInOf(session: PortalSession): SignedIn {
  return {
    userId: session.user.id,
    authenticatedAt: session.authenticatedAt,
    acr: acrOf(session.amr),
    teamId: session.activeTeam?.id,
    teamRequiresTwoFactor: session.activeTeam?.requiresTwoFactor ?? false,
  }
}

type SessionInTeam = PortalSession & { activeTeam: NonNullable<PortalSession['activeTeam']> }

/** The decision shows the consent page or issues a code only to a user signed in with a team. */
function inTeam(session: PortalSession | undefined): SessionInTeam {
  const team = session?.activeTeam
  if (!session || !team) throw new Error('A consent page or a code needs a user signed in with a team.')
  return { ...session, activeTeam: team }
}

function approverOf(session: SessionInTeam, address: string, onConsentPage: boolean): Approver {
  const { user, activeTeam, sid, authenticatedAt, amr, expiresAt } = session
  return { userId: user.id, teamId: activeTeam.id, sid, authenticatedAt, amr, sessionExpiresAt: expiresAt, address, onConsentPage }
}

function respond(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, to: ResponseTarget, fields: Record<string, string | undefined>) {
  const response = authorizationResponse(ctx, to, fields)
  if ('formPost' in response) return sendPage(ctx, request, reply, 'form-post', { title: 'Signing you in', ...response.formPost })
  return reply.redirect(response.redirect, 302)
}

type Outcome = { request: AuthorizationRequest } | { reply: FastifyReply }

function errorPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, message: string) {
  return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.invalid, message }, 400)
}

/** `signedIn`: whether the browser comes with a signed-in session, which decides how an error may be answered (errorAnswer). */
async function checkRequest(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, params: RawParams, signedIn: boolean): Promise<Outcome> {
  let resolved
  try {
    resolved = await resolveRedirect(ctx, params)
  } catch (err) {
    if (!(err instanceof UntrustedRedirectError)) throw err
    // Never redirect to a client or URL we cannot vouch for (no open redirector).
    return { reply: await errorPage(ctx, request, reply, err.message) }
  }
  try {
    const resources = await requestedResources(ctx, params)
    return { request: parseAuthorizationRequest(resolved.client, resolved.redirectUri, params, resources) }
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err
    const answer = errorAnswer(resolved.client, signedIn, err)
    if (answer.do === 'error-page') return { reply: await errorPage(ctx, request, reply, err.description) }
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
  if (again) back += `&${LOGIN_REQUESTED}=${loginRequestedMark(ctx, authorization.client.id)}`
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
  session: SessionInTeam,
  authorization: AuthorizationRequest,
  parameters: RequestParameters,
) {
  const requestId = await holdForConsent(ctx, session.id, { clientId: authorization.client.id, teamId: session.activeTeam.id, parameters })
  consents.shown.inc()
  // `resource` may repeat (RFC 8707 §2); every value is carried.
  const carried = Object.entries(parameters).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => ({ name, value: v })))
  const onFile = await readConsent(ctx.db.kysely, { userId: session.user.id, clientId: authorization.client.id, teamId: session.activeTeam.id })
  const asked = askedOnPage(authorization, onFile)
  const described = (scopes: string[] | 'all') => (scopes === 'all' ? 'all' : scopes.map((s) => ({ name: s, description: scopeInWords(authorization, s) })))
  const named = (uris: string[]) => authorization.resources.filter((r) => uris.includes(r.uri)).map((r) => ({ name: r.name, uri: r.uri }))
  return sendPage(ctx, request, reply, 'consent', {
    title: withNamesText(AUTHORIZATION_TITLES.consent, { name: authorization.client.name }),
    client: authorization.client,
    team: session.activeTeam,
    scopes: { new: described(asked.scopes.new), approved: described(asked.scopes.approved) },
    resources: { new: named(asked.resources.new), approved: named(asked.resources.approved) },
    registeredBy: authorization.client.teamId === null ? undefined : (await findTeam(ctx.db, authorization.client.teamId))?.name,
    redirectHost: new URL(authorization.redirectUri).host,
    unverified: isSelfRegistered(authorization.client)
      ? {
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

/** Carries out the decision on a request; `params` are the request's, as it came or as kept for the consent form. */
async function carryOut(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PortalSession | undefined,
  authorization: AuthorizationRequest,
  params: RawParams,
  decision: Decision,
) {
  switch (decision.do) {
    case 'login':
      return sendToLogin(ctx, request, reply, authorization, params, decision.reason !== 'signed-out')
    case 'no-team':
      return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.noTeam, message: MESSAGES.no_active_team }, 403)
    case 'step-up': {
      // A user with no second factor cannot step up: they add one first, and are never given less than asked for.
      if (!session || !(await hasFactor(ctx, session.user.id)))
        return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.twoFactorNeeded, message: MESSAGES.two_factor_needed_for_app }, 403)
      const onlyPasskey = authorization.acrValues.length > 0 && authorization.acrValues.every((acr) => acr === ACR.phishingResistant)
      if (onlyPasskey && (await listPasskeysOfUser(ctx.db.kysely, session.user.id)).length === 0)
        return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.twoFactorNeeded, message: MESSAGES.passkey_needed_for_app }, 403)
      return reply.redirect(`${SECOND_STEP_PATH}?return_to=${encodeURIComponent(requestPath(request, params))}`, 303)
    }
    case 'error':
      return respond(ctx, request, reply, authorization, errorFields(decision.error, authorization.state))
    case 'error-page':
      return errorPage(ctx, request, reply, decision.error.description)
    case 'consent':
      return consentPage(ctx, request, reply, inTeam(session), authorization, requestParameters(params))
    case 'code': {
      const code = await approve(ctx, authorization, approverOf(inTeam(session), request.ip, decision.reason === 'approved'))
      return respond(ctx, request, reply, authorization, { code, state: authorization.state })
    }
  }
}

export function authorizeRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get(ENDPOINTS.authorization, async (request, reply) => {
    const params = request.query as RawParams
    const session = await currentSession(ctx, request)
    const checked = await checkRequest(ctx, request, reply, params, session !== undefined)
    if ('reply' in checked) return checked.reply
    const authorization = checked.request
    const state = await loginStateOf(ctx, authorization, params, session && signedInOf(session))
    return carryOut(ctx, request, reply, session, authorization, params, decideAuthorization(authorization, state))
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
    const checked = await checkRequest(ctx, request, reply, form.parameters, true)
    if ('reply' in checked) return checked.reply
    const authorization = checked.request
    const state = { signedIn: signedInOf(session), loginRequestedAt: loginRequestedAt(ctx, authorization.client.id, form.parameters), now: ctx.clock() }
    const decision = decideOnConsentForm(authorization, state, { teamId: form.teamId, approved: posted.decision === 'approve' })
    if (decision.do === 'code') consents.approved.inc()
    else if (decision.do === 'error' && decision.error instanceof AccessDenied) consents.denied.inc()
    return carryOut(ctx, request, reply, session, authorization, form.parameters, decision)
  })
}
