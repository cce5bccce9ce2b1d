import type { FastifyInstance } from 'fastify'
import { signUp } from '../../accounts/signup.js'
import type { AppContext } from '../../context.js'
import { Refusal } from '../../messages.js'
import { checkLoginCsrf, loginCsrfToken } from '../session.js'
import { sendPage } from './page.js'

interface SignupBody {
  name?: string
  email?: string
  password?: string
  _csrf?: string
}

const signupBodySchema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 1000 },
    email: { type: 'string', maxLength: 320 },
    password: { type: 'string', maxLength: 1024 },
    _csrf: { type: 'string', maxLength: 200 },
  },
} as const

/** Open sign-up (GATEHOUSE_SIGNUP=open); without it these addresses do not exist. */
export function signupRoutes(app: FastifyInstance, ctx: AppContext): void {
  if (ctx.config.signup !== 'open') return

  app.get('/signup', async (request, reply) => sendPage(ctx, request, reply, 'signup', { csrf: loginCsrfToken(ctx, request, reply), form: {} }))

  app.post<{ Body: SignupBody }>('/signup', { schema: { body: signupBodySchema } }, async (request, reply) => {
    const body = request.body ?? {}
    const form = { name: body.name ?? '', email: body.email ?? '', password: body.password ?? '' }
    try {
      checkLoginCsrf(ctx, request, body._csrf)
      await signUp({ db: ctx.db, activity: ctx.activity, mail: ctx.mail, issuer: ctx.config.issuer, clock: ctx.clock }, form, request.ip)
      return await sendPage(ctx, request, reply, 'signup-sent', { email: form.email.trim() })
    } catch (err) {
      if (!(err instanceof Refusal) || err.code === 'csrf_failed') throw err
      return sendPage(ctx, request, reply, 'signup', { csrf: loginCsrfToken(ctx, request, reply), form, error: err.message }, err.status)
    }
  })
}
