import type { FastifyError, FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'
import { AppError, MESSAGES } from '../messages.js'
import { sendPage } from './pages/page.js'
import { render } from './views.js'
import { isDatabaseUnavailable } from '../db/errors.js'

/** Portal errors become a readable page; nothing about the failure's internals reaches the person. */
export function addPageErrorHandlers(app: FastifyInstance, ctx: AppContext): void {
  app.setErrorHandler(async (error: FastifyError | AppError, request, reply) => {
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable')
      // Rendered without the session, which would need the database too.
      const html = render('error', { title: 'Temporarily unavailable', message: MESSAGES.unavailable, currentPath: request.url })
      return reply.code(503).header('Retry-After', '5').header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html)
    }
    if (error instanceof AppError) {
      return sendPage(ctx, request, reply, 'error', { title: 'That did not work', message: error.message }, error.status)
    }
    const status = error.statusCode ?? 500
    if (status >= 400 && status < 500) {
      return sendPage(ctx, request, reply, 'error', { title: 'That request could not be handled', message: error.message }, status)
    }
    request.log.error({ err: error }, 'request failed')
    return sendPage(ctx, request, reply, 'error', { title: 'Something went wrong', message: MESSAGES.internal }, 500)
  })

  app.setNotFoundHandler(async (request, reply) => {
    return sendPage(ctx, request, reply, 'error', { title: 'Page not found', message: MESSAGES.not_found }, 404)
  })
}
