import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { Refusal, MESSAGES } from '../../messages.js'
import { errorHandler, finishReadingBody, type Failure } from '../errors.js'
import { render } from '../views.js'
import { elsewherePage } from './not-in-team.js'
import { sendPage } from './page.js'

function isRefusal(error: unknown): error is Refusal {
  return error instanceof Refusal
}

/** The portal's renderer: a readable page; nothing about the failure's internals reaches the person. */
function renderPage(ctx: AppContext) {
  return (failure: Failure<Refusal>, request: FastifyRequest, reply: FastifyReply) => {
    switch (failure.kind) {
      case 'own': {
        const elsewhere = elsewherePage(failure.error)
        if (elsewhere) return sendPage(ctx, request, reply, elsewhere.template, elsewhere.data, failure.error.status)
        return sendPage(ctx, request, reply, 'error', { title: 'That did not work', message: failure.error.message }, failure.error.status)
      }
      case 'unavailable': {
        // Rendered without the session, which would need the database too.
        const html = render('error', ctx.config.brand, { title: 'Temporarily unavailable', message: MESSAGES.unavailable, currentPath: request.url })
        return reply.code(503).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html)
      }
      case 'rejected':
        return sendPage(ctx, request, reply, 'error', { title: 'That request could not be handled', message: failure.message }, failure.status)
      case 'failed':
        return sendPage(ctx, request, reply, 'error', { title: 'Something went wrong', message: MESSAGES.internal }, 500)
    }
  }
}

/** The app-wide handlers: every address outside the OAuth endpoints and the API is the portal's. */
export function addPageErrorHandlers(app: FastifyInstance, ctx: AppContext): void {
  app.setErrorHandler(errorHandler(isRefusal, renderPage(ctx)))
  app.setNotFoundHandler(async (request, reply) => {
    await finishReadingBody(request, reply)
    return sendPage(ctx, request, reply, 'error', { title: 'Page not found', message: MESSAGES.not_found }, 404)
  })
}
