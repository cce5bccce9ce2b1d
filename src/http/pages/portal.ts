import type { FastifyReply, FastifyRequest } from 'fastify'
import { claimSubmission, finishSubmission, releaseSubmission } from '../../accounts/portal-forms.js'
import type { AppContext } from '../../context.js'
import { sessionOf } from './session-guard.js'

/**
 * The success banner named by `?done=` after a redirect. Only codes the page
 * knows produce text, so the query string can never put words on the page.
 */
export function doneBanner(banners: Record<string, string>, done: unknown): string | undefined {
  return typeof done === 'string' && Object.hasOwn(banners, done) ? banners[done] : undefined
}

/** The path of a route that names a client, token or app by id. */
export interface IdParams {
  id: string
}

/** Schema for routes whose path names a client, token or app by id. */
export const idParamsSchema = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
  required: ['id'],
} as const

/** The fields every portal form carries (views/form-guard.eta). */
export interface FormBody {
  _csrf?: string
  /** This form instance's id, so that it acts once however often it is sent. */
  _form?: string
  /** The page the form is on, to come back to after logging in again. */
  _page?: string
}

export const formGuardProperties = {
  _csrf: { type: 'string', maxLength: 200 },
  _form: { type: 'string', maxLength: 100 },
  _page: { type: 'string', maxLength: 4096 },
} as const

export const csrfBodySchema = {
  type: 'object',
  properties: formGuardProperties,
} as const

/**
 * Post/Redirect/Get, once per form instance. `act` does the work and names
 * the page to redirect to, or answers itself (a form sent back with its
 * errors, which did nothing, so the same form may be sent again). A repeat of
 * a form that acted (a double click, a reload of the POST, the same form in a
 * second tab) does nothing and goes where the first went, or to `fallback`
 * while the first is still under way.
 */
export async function actOnce(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  fallback: string,
  act: () => Promise<string | FastifyReply>,
): Promise<FastifyReply> {
  const formId = (request.body as FormBody | undefined)?._form
  // Forms rendered before form ids existed, still open in a browser, keep working.
  if (formId === undefined || formId === '') {
    const outcome = await act()
    return typeof outcome === 'string' ? reply.redirect(outcome, 303) : outcome
  }
  const submission = await claimSubmission(ctx.db, sessionOf(request).id, formId, ctx.clock())
  if (!submission.first) return reply.redirect(submission.location ?? fallback, 303)
  let outcome: string | FastifyReply
  try {
    outcome = await act()
  } catch (err) {
    await releaseSubmission(ctx.db, submission.key)
    throw err
  }
  if (typeof outcome !== 'string') {
    await releaseSubmission(ctx.db, submission.key)
    return outcome
  }
  await finishSubmission(ctx.db, submission.key, outcome)
  return reply.redirect(outcome, 303)
}
