import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  confirmTotpEnrolment,
  factorsOf,
  pendingTotpEnrolment,
  regenerateRecoveryCodes,
  REAUTHENTICATION_WINDOW_MS,
  removeFactor,
  startTotpEnrolment,
  unusedRecoveryCodes,
} from '../../accounts/factors.js'
import { finishPasskeyRegistration, startPasskeyRegistration } from '../../accounts/passkeys.js'
import { keepForOneView, takeOneView } from '../../accounts/portal-forms.js'
import type { AppContext } from '../../context.js'
import { BANNERS, MESSAGES, Refusal } from '../../messages.js'
import type { PortalSession } from '../session.js'
import { shownTime } from './format.js'
import { answerJson } from './json-answer.js'
import { sendPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, formGuardProperties, idParamsSchema, type FormBody, type IdParams } from './portal.js'
import { loggedInPages, sessionOf } from './session-guard.js'

export const SECURITY_PATH = '/account/security'
const APP_PATH = `${SECURITY_PATH}/app`

interface CodeBody extends FormBody {
  factor_id?: string
  code?: string
}

const codeBodySchema = {
  type: 'object',
  properties: { factor_id: { type: 'string', maxLength: 100 }, code: { type: 'string', maxLength: 64 }, ...formGuardProperties },
} as const

interface PasskeyBody extends FormBody {
  challenge_id?: string
  name?: string
  response?: unknown
}

const passkeyBodySchema = {
  type: 'object',
  properties: {
    challenge_id: { type: 'string', maxLength: 100 },
    name: { type: 'string', maxLength: 200 },
    response: { type: 'object' },
    ...formGuardProperties,
  },
} as const

const PASSKEYS_PATH = `${SECURITY_PATH}/passkeys`

/** The page's script sends the person to confirm who they are, then back. */
function reauthenticationNeeded(reply: FastifyReply): { error: string; redirect: string } {
  reply.code(403)
  return { error: MESSAGES.reauthentication_needed, redirect: toReauthentication(SECURITY_PATH) }
}

/** Adding or removing a factor needs the password entered in the last few minutes: a session left open is not enough. */
function recentlyAuthenticated(ctx: AppContext, session: PortalSession): boolean {
  return ctx.clock() - session.authenticatedAt <= REAUTHENTICATION_WINDOW_MS
}

function toReauthentication(returnTo: string): string {
  return `/login?reauthenticate=1&confirm=1&return_to=${encodeURIComponent(returnTo)}`
}

/**
 * /account/security: the user's second factors (authenticator apps), adding
 * and removing them, and their recovery codes.
 */
export function securityRoutes(app: FastifyInstance, ctx: AppContext): void {
  const sendSecurity = async (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) => {
    const { user } = sessionOf(request)
    const factors = await factorsOf(ctx, user.id)
    return sendPage(
      ctx,
      request,
      reply,
      'security',
      {
        title: 'Sign-in security',
        factors: factors.map((f) => ({
          id: f.id,
          name: f.name,
          kind: f.kind,
          addedAt: shownTime(new Date(f.createdAt)),
          lastUsedAt: f.lastUsedAt === null ? undefined : shownTime(new Date(f.lastUsedAt)),
        })),
        recoveryCodesLeft: factors.length > 0 ? await unusedRecoveryCodes(ctx, user.id) : undefined,
        pending: (await pendingTotpEnrolment(ctx, user)) !== undefined,
        ...extra,
      },
      status,
    )
  }

  const sendEnrolment = async (request: FastifyRequest, reply: FastifyReply, error?: string, status = 200) => {
    const enrolment = await pendingTotpEnrolment(ctx, sessionOf(request).user)
    if (!enrolment) return reply.redirect(SECURITY_PATH, 303)
    return sendPage(ctx, request, reply, 'totp-enrol', { title: 'Add an authenticator app', enrolment, error }, status)
  }

  loggedInPages(app, ctx, (pages) => {
    // required=team: the active team requires two-factor sign-in and sent its member here first.
    pages.get<{ Querystring: { done?: string; required?: string } }>(SECURITY_PATH, async (request, reply) =>
      sendSecurity(request, reply, {
        banner: doneBanner(BANNERS.security, request.query.done),
        requiredBy: request.query.required === 'team' && sessionOf(request).activeTeam?.requiresTwoFactor ? sessionOf(request).activeTeam : undefined,
      }),
    )

    pages.post<{ Body: FormBody }>(APP_PATH, { schema: { body: csrfBodySchema } }, async (request, reply) =>
      actOnce(ctx, request, reply, APP_PATH, async () => {
        const session = sessionOf(request)
        if (!recentlyAuthenticated(ctx, session)) return toReauthentication(SECURITY_PATH)
        await startTotpEnrolment(ctx, session.user)
        return APP_PATH
      }),
    )

    pages.get(APP_PATH, async (request, reply) => sendEnrolment(request, reply))

    pages.post<{ Body: CodeBody }>(`${APP_PATH}/confirm`, { schema: { body: codeBodySchema } }, async (request, reply) =>
      actOnce(ctx, request, reply, SECURITY_PATH, async () => {
        const session = sessionOf(request)
        if (!recentlyAuthenticated(ctx, session)) return toReauthentication(APP_PATH)
        try {
          const { recoveryCodes } = await confirmTotpEnrolment(ctx, session.user, request.body.factor_id ?? '', request.body.code ?? '', request.ip)
          if (!recoveryCodes) return `${SECURITY_PATH}?done=app_added`
          const viewId = await keepForOneView(ctx.db, ctx.keys, session.id, 'recovery-codes', recoveryCodes.join(' '), ctx.clock())
          return `${SECURITY_PATH}/recovery-codes/${viewId}`
        } catch (err) {
          if (!(err instanceof Refusal)) throw err
          if (err.code === 'totp_enrolment_missing') return sendSecurity(request, reply, { error: err.message }, err.status)
          return sendEnrolment(request, reply, err.message, err.status)
        }
      }),
    )

    pages.post<{ Body: FormBody }>(`${PASSKEYS_PATH}/options`, { schema: { body: csrfBodySchema } }, async (request, reply) =>
      answerJson(reply, async () => {
        const session = sessionOf(request)
        if (!recentlyAuthenticated(ctx, session)) return reauthenticationNeeded(reply)
        return startPasskeyRegistration(ctx, session.user, session.id)
      }),
    )

    pages.post<{ Body: PasskeyBody }>(PASSKEYS_PATH, { schema: { body: passkeyBodySchema } }, async (request, reply) =>
      answerJson(reply, async () => {
        const session = sessionOf(request)
        if (!recentlyAuthenticated(ctx, session)) return reauthenticationNeeded(reply)
        const { recoveryCodes } = await finishPasskeyRegistration(
          ctx,
          session.user,
          session.id,
          { challengeId: request.body.challenge_id ?? '', name: request.body.name ?? '', response: request.body.response },
          request.ip,
        )
        if (!recoveryCodes) return { redirect: `${SECURITY_PATH}?done=passkey_added` }
        const viewId = await keepForOneView(ctx.db, ctx.keys, session.id, 'recovery-codes', recoveryCodes.join(' '), ctx.clock())
        return { redirect: `${SECURITY_PATH}/recovery-codes/${viewId}` }
      }),
    )

    pages.post<{ Params: IdParams; Body: FormBody }>(
      `${SECURITY_PATH}/factors/:id/remove`,
      { schema: { params: idParamsSchema, body: csrfBodySchema } },
      async (request, reply) =>
        actOnce(ctx, request, reply, SECURITY_PATH, async () => {
          const session = sessionOf(request)
          if (!recentlyAuthenticated(ctx, session)) return toReauthentication(SECURITY_PATH)
          try {
            await removeFactor(ctx, session.user, request.params.id, request.ip)
          } catch (err) {
            if (!(err instanceof Refusal)) throw err
            return sendSecurity(request, reply, { error: err.message }, err.status)
          }
          return `${SECURITY_PATH}?done=removed`
        }),
    )

    pages.post<{ Body: FormBody }>(`${SECURITY_PATH}/recovery-codes`, { schema: { body: csrfBodySchema } }, async (request, reply) =>
      actOnce(ctx, request, reply, SECURITY_PATH, async () => {
        const session = sessionOf(request)
        if (!recentlyAuthenticated(ctx, session)) return toReauthentication(SECURITY_PATH)
        try {
          const codes = await regenerateRecoveryCodes(ctx, session.user, request.ip)
          const viewId = await keepForOneView(ctx.db, ctx.keys, session.id, 'recovery-codes', codes.join(' '), ctx.clock())
          return `${SECURITY_PATH}/recovery-codes/${viewId}`
        } catch (err) {
          if (!(err instanceof Refusal)) throw err
          return sendSecurity(request, reply, { error: err.message }, err.status)
        }
      }),
    )

    // Shown once, from a redirect, so the codes never travel in a URL and a reload shows nothing.
    pages.get<{ Params: IdParams }>(`${SECURITY_PATH}/recovery-codes/:id`, { schema: { params: idParamsSchema } }, async (request, reply) => {
      const shown = await takeOneView(ctx.db, ctx.keys, sessionOf(request).id, request.params.id, ctx.clock())
      if (!shown || shown.subjectId !== 'recovery-codes') return reply.redirect(SECURITY_PATH, 303)
      return sendPage(ctx, request, reply, 'recovery-codes', { title: 'Your recovery codes', codes: shown.secret.split(' ') })
    })
  })
}
