import type { FastifyInstance } from 'fastify'
import { keepForOneView, takeOneView } from '../../accounts/portal-forms.js'
import type { AppContext } from '../../context.js'
import { Refusal, BANNERS, CONFIRMATIONS } from '../../messages.js'
import {
  createPersonalAccessToken,
  deletePersonalAccessToken,
  PAT_MAX_LIFETIME_DAYS,
  personalAccessTokensOf,
  type PersonalAccessToken,
} from '../../tokens/personal-access-tokens.js'
import { checkSessionCsrf } from '../session.js'
import { missingToken } from './not-in-team.js'
import { shownTime } from './format.js'
import { sendPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, formGuardProperties, idParamsSchema, requireTeamSession, type FormBody } from './portal.js'

/** The expiries offered; a year is the default and the most a token may last (seed 002). */
const LIFETIMES = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 180, label: '180 days' },
  { days: PAT_MAX_LIFETIME_DAYS, label: '1 year' },
]

interface CreateBody extends FormBody {
  name?: string
  lifetime_days?: string
}

const createBodySchema = {
  type: 'object',
  properties: {
    // As on the client form: the domain says when a name is too long.
    name: { type: 'string' },
    lifetime_days: { type: 'string', maxLength: 10 },
    ...formGuardProperties,
  },
} as const

function tokenView(token: PersonalAccessToken) {
  return {
    id: token.id,
    name: token.name,
    createdAt: shownTime(token.createdAt),
    expiresAt: shownTime(token.expiresAt),
    lastUsedAt: shownTime(token.lastUsedAt),
  }
}

interface CreateForm {
  name: string
  lifetimeDays: string
  nameError?: string
  lifetimeError?: string
}

export function personalAccessTokenRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Querystring: { done?: string } }>('/settings/tokens', async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    const tokens = await personalAccessTokensOf(ctx.db, session.user.id, session.activeTeam.id)
    return sendPage(ctx, request, reply, 'tokens', {
      title: 'Personal access tokens',
      team: session.activeTeam,
      tokens: tokens.map(tokenView),
      banner: doneBanner(BANNERS.tokens, request.query.done),
    })
  })

  app.get('/settings/tokens/new', async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    const form: CreateForm = { name: '', lifetimeDays: String(PAT_MAX_LIFETIME_DAYS) }
    return sendPage(ctx, request, reply, 'token-new', { title: 'Create token', team: session.activeTeam, form, lifetimes: LIFETIMES, csrf: session.csrfToken })
  })

  // Post/Redirect/Get: the token is kept, encrypted, for the one view of the
  // page this redirects to, so it never travels in a URL and a reload cannot make another.
  app.post<{ Body: CreateBody }>('/settings/tokens', { schema: { body: createBodySchema } }, async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    checkSessionCsrf(ctx, session, request.body?._csrf)
    const name = request.body?.name ?? ''
    const lifetimeDays = request.body?.lifetime_days ?? String(PAT_MAX_LIFETIME_DAYS)
    return actOnce(ctx, reply, session, request.body, '/settings/tokens', async () => {
      let created
      try {
        created = await createPersonalAccessToken(
          ctx.db,
          { userId: session.user.id, teamId: session.activeTeam.id, name, lifetimeDays: /^\d+$/.test(lifetimeDays) ? Number(lifetimeDays) : Number.NaN },
          ctx.clock(),
        )
      } catch (err) {
        if (!(err instanceof Refusal) || !err.code.startsWith('token_')) throw err
        const form: CreateForm = {
          name,
          lifetimeDays,
          nameError: err.code.startsWith('token_name') ? err.message : undefined,
          lifetimeError: err.code === 'token_lifetime_invalid' ? err.message : undefined,
        }
        return sendPage(
          ctx,
          request,
          reply,
          'token-new',
          { title: 'Create token', team: session.activeTeam, form, lifetimes: LIFETIMES, csrf: session.csrfToken },
          400,
        )
      }
      ctx.activity.record({
        action: 'personal_access_token.created',
        teamId: session.activeTeam.id,
        userId: session.user.id,
        personalAccessTokenId: created.record.id,
        detail: created.record.name,
        address: request.ip,
      })
      const viewId = await keepForOneView(ctx.db, ctx.keys, session.id, created.record.id, created.token, ctx.clock())
      return `/settings/tokens/created/${viewId}`
    })
  })

  app.get<{ Params: { id: string } }>('/settings/tokens/created/:id', { schema: { params: idParamsSchema } }, async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    const shown = await takeOneView(ctx.db, ctx.keys, session.id, request.params.id, ctx.clock())
    const record = shown && (await personalAccessTokensOf(ctx.db, session.user.id, session.activeTeam.id)).find((t) => t.id === shown.subjectId)
    if (!shown || !record) return sendPage(ctx, request, reply, 'token-gone', { title: 'Token no longer shown', team: session.activeTeam }, 410)
    return sendPage(ctx, request, reply, 'token-created', {
      title: 'Token created',
      team: session.activeTeam,
      token: shown.secret,
      record: tokenView(record),
    })
  })

  app.get<{ Params: { id: string } }>('/settings/tokens/:id/delete', { schema: { params: idParamsSchema } }, async (request, reply) => {
    const session = await requireTeamSession(ctx, request, reply)
    if (!session) return reply
    const tokens = await personalAccessTokensOf(ctx.db, session.user.id, session.activeTeam.id)
    const token = tokens.find((t) => t.id === request.params.id) ?? (await missingToken(ctx, session, request.params.id, request.url))
    return sendPage(ctx, request, reply, 'confirm', {
      ...CONFIRMATIONS.deleteToken,
      names: { name: token.name },
      action: `/settings/tokens/${token.id}/delete`,
      cancelHref: '/settings/tokens',
      csrf: session.csrfToken,
    })
  })

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/settings/tokens/:id/delete',
    { schema: { params: idParamsSchema, body: csrfBodySchema } },
    async (request, reply) => {
      const session = await requireTeamSession(ctx, request, reply)
      if (!session) return reply
      checkSessionCsrf(ctx, session, request.body?._csrf)
      return actOnce(ctx, reply, session, request.body, '/settings/tokens', async () => {
        const deleted = await deletePersonalAccessToken(ctx.db, request.params.id, session.user.id).catch((err: unknown) => {
          if (err instanceof Refusal && err.code === 'token_not_found') return missingToken(ctx, session, request.params.id, '/settings/tokens')
          throw err
        })
        ctx.activity.record({
          action: 'personal_access_token.deleted',
          teamId: deleted.teamId,
          userId: session.user.id,
          personalAccessTokenId: deleted.id,
          detail: deleted.name,
          address: request.ip,
        })
        return '/settings/tokens?done=deleted'
      })
    },
  )
}
