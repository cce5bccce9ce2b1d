import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasSecondFactor } from '../../accounts/assurance.js'
import { hasFactor } from '../../accounts/factors.js'
import type { Team } from '../../accounts/types.js'
import type { AppContext } from '../../context.js'
import { isSelfRegistered } from '../../clients/types.js'
import { AUTHORIZATION_TITLES, MESSAGES } from '../../messages.js'
import { withNamesText } from '../views.js'
import { DEVICE_VERIFICATION_PATH } from '../../oauth/device/authorization.js'
import { displayUserCode } from '../../oauth/device/user-code.js'
import { decideDeviceRequest, lookUpDeviceRequest, type DeviceRequest } from '../../oauth/device/verification.js'
import { SCOPES } from '../../protocol/scopes.js'
import { checkSessionCsrf, currentSession, type PortalSession } from '../session.js'
import { SECOND_STEP_PATH } from './login.js'
import { sendPage } from './page.js'

interface DecisionBody {
  _csrf?: unknown
  user_code?: unknown
  team_id?: unknown
  decision?: unknown
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, 64) : ''
}

/** The page again, with the code as typed and why it was refused. */
function entryPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, typed: string, refused?: 'unknown' | 'throttled') {
  const error = refused === undefined ? undefined : refused === 'throttled' ? MESSAGES.device_code_throttled : MESSAGES.device_code_unknown
  const status = refused === undefined ? 200 : refused === 'throttled' ? 429 : 400
  return sendPage(ctx, request, reply, 'device', { title: AUTHORIZATION_TITLES.device, userCode: typed, error }, status)
}

function scopeDescription(request: DeviceRequest, scope: string): string {
  const known = SCOPES[scope]
  if (known !== undefined) return known
  return `Defined by ${request.resources
    .filter((r) => r.scopes.includes(scope))
    .map((r) => r.name)
    .join(', ')}`
}

function consentPage(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PortalSession & { activeTeam: { id: number; name: string } },
  device: DeviceRequest,
) {
  return sendPage(ctx, request, reply, 'device-consent', {
    title: withNamesText(AUTHORIZATION_TITLES.consent, { name: device.client.name }),
    client: device.client,
    unverified: isSelfRegistered(device.client),
    userCode: displayUserCode(device.userCode),
    team: session.activeTeam,
    scopes: device.scopes.map((s) => ({ name: s, description: scopeDescription(device, s) })),
    resources: device.resources.map((r) => ({ name: r.name, uri: r.uri })),
    csrf: session.csrfToken,
  })
}

function pagePath(userCode: string): string {
  return `${DEVICE_VERIFICATION_PATH}?user_code=${encodeURIComponent(displayUserCode(userCode))}`
}

/**
 * A team that requires two-factor sign-in is authorised for only by a
 * session signed in with it, as on the consent page: one with the password
 * alone steps up, and a user with no second factor is told to add one.
 */
async function twoFactorStep(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PortalSession,
  team: Team,
  back: string,
): Promise<FastifyReply | undefined> {
  if (!team.requiresTwoFactor || hasSecondFactor(session.amr)) return undefined
  if (!(await hasFactor(ctx, session.user.id))) {
    return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.twoFactorNeeded, message: MESSAGES.two_factor_needed_for_app }, 403)
  }
  return reply.redirect(`${SECOND_STEP_PATH}?return_to=${encodeURIComponent(back)}`, 303)
}

/**
 * RFC 8628 §3.3: the page where a user enters the code their device shows,
 * logs in, and approves or denies the device for their active team. The
 * code entered is looked up before the login, so a mistyped one is said at
 * once; the verification_uri_complete link fills it in, and the consent
 * page still asks whether it is the code on the device.
 */
export function deviceRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: { user_code?: unknown } }>(DEVICE_VERIFICATION_PATH, async (request, reply) => {
    const typed = text(request.query.user_code)
    if (typed.trim() === '') return entryPage(ctx, request, reply, '')
    const found = await lookUpDeviceRequest(ctx, typed, request.ip)
    if ('refused' in found) return entryPage(ctx, request, reply, typed, found.refused)
    const session = await currentSession(ctx, request)
    if (!session) return reply.redirect(`/login?return_to=${encodeURIComponent(pagePath(found.request.userCode))}`, 303)
    const team = session.activeTeam
    if (!team) return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.noTeam, message: MESSAGES.no_active_team }, 403)
    const stepUp = await twoFactorStep(ctx, request, reply, session, team, pagePath(found.request.userCode))
    if (stepUp) return stepUp
    return consentPage(ctx, request, reply, { ...session, activeTeam: team }, found.request)
  })

  app.post<{ Body: DecisionBody }>(DEVICE_VERIFICATION_PATH, async (request, reply) => {
    const body = typeof request.body === 'object' && request.body !== null ? request.body : {}
    const session = await currentSession(ctx, request)
    if (!session) return reply.redirect(`/login?return_to=${encodeURIComponent(DEVICE_VERIFICATION_PATH)}&expired=1`, 303)
    checkSessionCsrf(ctx, session, body._csrf)
    const found = await lookUpDeviceRequest(ctx, text(body.user_code), request.ip)
    if ('refused' in found) {
      const message = found.refused === 'throttled' ? MESSAGES.device_code_throttled : MESSAGES.device_code_decided
      return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.decisionRefused, message }, found.refused === 'throttled' ? 429 : 400)
    }
    const device = found.request
    const team = session.activeTeam
    if (!team) return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.noTeam, message: MESSAGES.no_active_team }, 403)
    // The page named one team; if another became active since (another tab), ask again for that one.
    if (text(body.team_id) !== String(team.id)) return reply.redirect(pagePath(device.userCode), 303)
    const approved = body.decision === 'approve'
    if (approved) {
      const stepUp = await twoFactorStep(ctx, request, reply, session, team, pagePath(device.userCode))
      if (stepUp) return stepUp
    }
    const approver = { userId: session.user.id, teamId: team.id, authenticatedAt: session.authenticatedAt, amr: session.amr, address: request.ip }
    if (!(await decideDeviceRequest(ctx, device, approver, approved))) {
      return sendPage(ctx, request, reply, 'error', { title: AUTHORIZATION_TITLES.decisionRefused, message: MESSAGES.device_code_decided }, 400)
    }
    return sendPage(ctx, request, reply, 'device-done', {
      title: approved ? AUTHORIZATION_TITLES.deviceApproved : AUTHORIZATION_TITLES.deviceDenied,
      approved,
      clientName: device.client.name,
      teamName: team.name,
    })
  })
}
