import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
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
import { missingToken, orWhereItIs } from './not-in-team.js'
import { shownTime } from './format.js'
import { sendConfirmPage, sendTeamPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, formGuardProperties, idParamsSchema, type FormBody } from './portal.js'
import { teamPages, teamSessionOf } from './session-guard.js'

/** The expiries offered; a year is the default and the most a token may last. */
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

function createFormPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, form: CreateForm, status = 200) {
  return sendTeamPage(ctx, request, reply, 'token-new', 'Create token', { form, lifetimes: LIFETIMES }, status)
}

export function personalAccessTokenRoutes(app: FastifyInstance, ctx: AppContext): void {
  teamPages(app, ctx, (pages) => {
    pages.get<{ Querystring: { done?: string } }>('/settings/tokens', async (request, reply) => {
      const session = teamSessionOf(request)
      const tokens = await personalAccessTokensOf(ctx.db, session.user.id, session.activeTeam.id)
      return sendTeamPage(ctx, request, reply, 'tokens', 'Personal access tokens', {
        tokens: tokens.map(tokenView),
        banner: doneBanner(BANNERS.tokens, request.query.done),
      })
    })

    pages.get('/settings/tokens/new', async (request, reply) => {
      return createFormPage(ctx, request, reply, { name: '', lifetimeDays: String(PAT_MAX_LIFETIME_DAYS) })
    })

    // Post/Redirect/Get: the token is kept, encrypted, for the one view of the
    // page this redirects to, so it never travels in a URL and a reload cannot make another.
    pages.post<{ Body: CreateBody }>('/settings/tokens', { schema: { body: createBodySchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const name = request.body?.name ?? ''
      const lifetimeDays = request.body?.lifetime_days ?? String(PAT_MAX_LIFETIME_DAYS)
      return actOnce(ctx, request, reply, '/settings/tokens', async () => {
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
          return createFormPage(ctx, request, reply, form, 400)
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

    pages.get<{ Params: { id: string } }>('/settings/tokens/created/:id', { schema: { params: idParamsSchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const shown = await takeOneView(ctx.db, ctx.keys, session.id, request.params.id, ctx.clock())
      const record = shown && (await personalAccessTokensOf(ctx.db, session.user.id, session.activeTeam.id)).find((t) => t.id === shown.subjectId)
      if (!shown || !record) return sendTeamPage(ctx, request, reply, 'token-gone', 'Token no longer shown', {}, 410)
      return sendTeamPage(ctx, request, reply, 'token-created', 'Token created', {
        token: shown.secret,
        record: tokenView(record),
      })
    })

    pages.get<{ Params: { id: string } }>('/settings/tokens/:id/delete', { schema: { params: idParamsSchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const tokens = await personalAccessTokensOf(ctx.db, session.user.id, session.activeTeam.id)
      const token = tokens.find((t) => t.id === request.params.id) ?? (await missingToken(ctx, session, request.params.id, request.url))
      return sendConfirmPage(
        ctx,
        request,
        reply,
        CONFIRMATIONS.deleteToken,
        { name: token.name },
        { action: `/settings/tokens/${token.id}/delete`, cancel: '/settings/tokens' },
      )
    })

    pages.post<{ Params: { id: string }; Body: FormBody }>(
      '/settings/tokens/:id/delete',
      { schema: { params: idParamsSchema, body: csrfBodySchema } },
      async (request, reply) => {
        const session = teamSessionOf(request)
        return actOnce(ctx, request, reply, '/settings/tokens', async () => {
          const deleted = await orWhereItIs(deletePersonalAccessToken(ctx.db, request.params.id, session.user.id), 'token_not_found', () =>
            missingToken(ctx, session, request.params.id, '/settings/tokens'),
          )
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
  })
}
