import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { followEmailLink, renameUser, requestEmailChange, sendVerification } from '../../accounts/email-address.js'
import { changePassword, type AccountDeps } from '../../accounts/password-reset.js'
import type { AppContext } from '../../context.js'
import { BANNERS, Refusal } from '../../messages.js'
import { sendPage } from './page.js'
import { sendLinkProblem } from './password-reset.js'
import { actOnce, doneBanner, formGuardProperties, type FormBody } from './portal.js'
import { loggedInPages, sessionOf } from './session-guard.js'

const ACCOUNT_PATH = '/account'

interface AccountBody extends FormBody {
  name?: string
  email?: string
  current_password?: string
  password?: string
}

const accountBodySchema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 200 },
    email: { type: 'string', maxLength: 320 },
    current_password: { type: 'string', maxLength: 2048 },
    password: { type: 'string', maxLength: 2048 },
    ...formGuardProperties,
  },
} as const

type Section = 'name' | 'email' | 'password' | 'verification'

function accountDeps(ctx: AppContext): AccountDeps {
  return { ...ctx, sessionsEnded: (ended) => ctx.backchannel.sessionsEnded(ended) }
}

/** The account page: name, e-mail address and password, each its own form that keeps what was typed when refused. */
export function accountRoutes(app: FastifyInstance, ctx: AppContext): void {
  const sendAccount = (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200) => {
    const { user } = sessionOf(request)
    return sendPage(
      ctx,
      request,
      reply,
      'account',
      { title: 'Your account', user, values: { name: user.name, email: user.email }, mailUnavailable: !ctx.mail.canSend, ...extra },
      status,
    )
  }

  loggedInPages(app, ctx, (pages) => {
    pages.get<{ Querystring: { done?: string } }>(ACCOUNT_PATH, async (request, reply) =>
      sendAccount(request, reply, { banner: doneBanner(BANNERS.account, request.query.done), passwordDone: request.query.done?.startsWith('password') }),
    )

    const form = (section: Section, act: (request: FastifyRequest<{ Body: AccountBody }>) => Promise<string>) =>
      pages.post<{ Body: AccountBody }>(`${ACCOUNT_PATH}/${section}`, { schema: { body: accountBodySchema } }, async (request, reply) =>
        actOnce(ctx, request, reply, ACCOUNT_PATH, async () => {
          try {
            return await act(request)
          } catch (err) {
            if (!(err instanceof Refusal)) throw err
            const { user } = sessionOf(request)
            const values = { name: user.name, email: user.email, ...request.body }
            return sendAccount(request, reply, { errors: { [section]: err.message }, values }, err.status)
          }
        }),
      )

    form('name', async (request) => {
      await renameUser(ctx, sessionOf(request).user, request.body.name ?? '')
      return `${ACCOUNT_PATH}?done=name_changed`
    })

    form('email', async (request) => {
      await requestEmailChange(accountDeps(ctx), sessionOf(request).user, request.body.email ?? '', request.ip)
      return `${ACCOUNT_PATH}?done=email_sent`
    })

    form('password', async (request) => {
      const session = sessionOf(request)
      await changePassword(accountDeps(ctx), session.user, session.id, request.body.current_password ?? '', request.body.password ?? '', request.ip)
      return `${ACCOUNT_PATH}?done=password_changed`
    })

    form('verification', async (request) => {
      await sendVerification(accountDeps(ctx), sessionOf(request).user, request.ip)
      return `${ACCOUNT_PATH}?done=verification_sent`
    })
  })

  // Following the link is what proves the address, from whichever browser it is opened in; it works once.
  app.get<{ Params: { token: string } }>('/verify/:token', async (request, reply) => {
    reply.header('Referrer-Policy', 'no-referrer')
    try {
      const { purpose } = await followEmailLink(accountDeps(ctx), request.params.token.slice(0, 200), request.ip)
      return reply.redirect(`${ACCOUNT_PATH}?done=${purpose === 'verify' ? 'verified' : 'email_changed'}`, 303)
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      return sendLinkProblem(ctx, request, reply, err, ACCOUNT_PATH)
    }
  })
}
