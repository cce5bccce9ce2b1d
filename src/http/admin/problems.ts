import type { FastifyReply, FastifyRequest } from 'fastify'
import { MESSAGES, Refusal } from '../../messages.js'
import type { Failure } from '../errors.js'

/** Every problem's `type` is this followed by its code; the codes are listed in docs/admin-api.md and never change meaning. */
export const PROBLEM_TYPE_PREFIX = 'urn:gatehouse:problem:'

export const PROBLEM_MEDIA_TYPE = 'application/problem+json'

/** An admin API failure (RFC 9457): a stable code, the status, and words for people. */
export class AdminProblem extends Error {
  override readonly name = 'AdminProblem'
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string = title,
    /** RFC 6750 §3: the challenge of a 401 or 403. */
    readonly challenge?: string,
  ) {
    super(detail)
  }
}

export function isAdminFailure(error: unknown): error is AdminProblem | Refusal {
  return error instanceof AdminProblem || error instanceof Refusal
}

interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  instance: string
}

function problemOf(error: AdminProblem | Refusal, instance: string): ProblemBody {
  if (error instanceof Refusal)
    return { type: PROBLEM_TYPE_PREFIX + error.code, title: MESSAGES[error.code], status: error.status, detail: error.message, instance }
  return { type: PROBLEM_TYPE_PREFIX + error.code, title: error.title, status: error.status, detail: error.detail, instance }
}

const FIXED = {
  unavailable: { status: 503, code: 'service_unavailable', title: 'The service cannot reach its database right now. Try again shortly.' },
  failed: { status: 500, code: 'server_error', title: 'Something went wrong on our side. Try again in a moment.' },
  unsupportedMediaType: { status: 415, code: 'unsupported_media_type', title: 'Send request bodies as Content-Type: application/json.' },
  invalid: { status: 400, code: 'invalid_request', title: 'The request does not match what the operation accepts.' },
} as const

export function unsupportedMediaType(): AdminProblem {
  return new AdminProblem(415, FIXED.unsupportedMediaType.code, FIXED.unsupportedMediaType.title)
}

export function notFound(detail: string): AdminProblem {
  return new AdminProblem(404, 'not_found', 'There is nothing at this address.', detail)
}

/** The admin API's renderer: RFC 9457 problem details, whatever went wrong. */
export function renderProblem(failure: Failure<AdminProblem | Refusal>, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const instance = request.url.split('?')[0]!
  let body: ProblemBody
  switch (failure.kind) {
    case 'own':
      if (failure.error instanceof AdminProblem && failure.error.challenge) reply.header('WWW-Authenticate', failure.error.challenge)
      body = problemOf(failure.error, instance)
      break
    case 'rejected': {
      const fixed = failure.status === 415 ? FIXED.unsupportedMediaType : FIXED.invalid
      const code = failure.status === 415 ? fixed.code : failure.validation ? 'invalid_request' : failure.status === 413 ? 'payload_too_large' : 'bad_request'
      body = { type: PROBLEM_TYPE_PREFIX + code, title: fixed.title, status: failure.status, detail: failure.message || fixed.title, instance }
      break
    }
    case 'unavailable':
    case 'failed': {
      const fixed = FIXED[failure.kind]
      body = { type: PROBLEM_TYPE_PREFIX + fixed.code, title: fixed.title, status: fixed.status, detail: fixed.title, instance }
      break
    }
  }
  return reply.code(body.status).type(PROBLEM_MEDIA_TYPE).send(body)
}

/** The schema of every problem the admin API answers, as its OpenAPI document describes it. */
export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  additionalProperties: false,
  properties: {
    type: { type: 'string', description: `${PROBLEM_TYPE_PREFIX}<code>; the codes are stable.` },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
  },
} as const
