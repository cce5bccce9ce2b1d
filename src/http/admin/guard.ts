import type { FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { bearerChallenge } from '../../resource-server/index.js'
import { ADMIN_TOKEN_PREFIX } from '../../protocol/token-kind.js'
import { adminScopeAllows, checkAdminToken, type AdminScope, type AdminToken } from '../../tokens/admin-tokens.js'
import { readBearer } from '../api/guard.js'
import { AdminProblem } from './problems.js'

declare module 'fastify' {
  interface FastifyRequest {
    adminToken: AdminToken | null
  }
}

const REALM = 'gatehouse-admin'

function unauthenticated(detail: string, error?: 'invalid_token' | 'invalid_request'): AdminProblem {
  return new AdminProblem(
    401,
    error ?? 'unauthenticated',
    'Send an admin token: Authorization: Bearer gatehouse_admin_…',
    detail,
    bearerChallenge({ realm: REALM, error, errorDescription: error && detail }),
  )
}

/** Reading needs admin:read, anything else admin:write (which includes reading). */
export function neededScope(method: string): AdminScope {
  return method === 'GET' || method === 'HEAD' ? 'admin:read' : 'admin:write'
}

/**
 * The check in front of every admin route, before its body is read: an
 * admin token, and only an admin token. OAuth access tokens and personal
 * access tokens act for a user of a team; they never act for the operator.
 */
export async function authenticateAdmin(ctx: AppContext, request: FastifyRequest): Promise<AdminToken> {
  const credentials = readBearer(request.headers.authorization)
  if (credentials.kind === 'none') throw unauthenticated('This request carries no credentials.')
  if (credentials.kind === 'malformed') throw unauthenticated('The Authorization header is malformed.', 'invalid_request')
  if (!credentials.token.startsWith(ADMIN_TOKEN_PREFIX))
    throw unauthenticated('Only admin tokens (made with gatehouse admin-tokens create) work on the admin API; this is another kind of token.', 'invalid_token')
  const verdict = await checkAdminToken(ctx.db, credentials.token, ctx.clock())
  if (!verdict.active) throw unauthenticated(`The admin token is not valid (${verdict.reason}).`, 'invalid_token')
  return verdict.token
}

/** Refuses a token without the scope the method needs (403, RFC 6750 §3.1 insufficient_scope). */
export function requireScope(token: AdminToken, method: string): void {
  const needed = neededScope(method)
  if (!adminScopeAllows(token.scope, needed))
    throw new AdminProblem(
      403,
      'insufficient_scope',
      'The admin token lacks the scope this operation needs.',
      `This operation needs an admin token with the "${needed}" scope; this one has "${token.scope}".`,
      bearerChallenge({ realm: REALM, error: 'insufficient_scope', scope: needed }),
    )
}
