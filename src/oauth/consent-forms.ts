import type { AppContext } from '../context.js'
import { hashSecret, randomSecret } from '../crypto/random.js'
import { findPendingAuthorizationRequest, insertAuthorizationRequest } from '../db/authorization-requests.js'
import { consume } from '../db/single-use.js'
import type { RawParams } from './params.js'

/*
 * A consent page shows one authorization request; the decision posted from
 * it must answer that request and no other. The request is kept on the
 * server, bound to the browser session that was shown it, under a random id
 * the form carries. The form also carries the request's parameters, and a
 * decision whose parameters differ from those kept is refused, so a changed
 * scope, client, redirect URI, PKCE challenge or state never becomes a code.
 *
 *   GET shows page ──▶ pending (session, team, parameters) ──POST, same session,
 *   same parameters──▶ consumed once ──▶ approve / deny
 *                      └─ other session, changed parameters, expired, used ──▶ 400, no code
 */

/**
 * The authorization request's parameters the consent page carries. A new
 * parameter of the request (OpenID Connect's nonce, RFC 8707's resource)
 * is added here, and is then bound to the decision like the others.
 */
export const REQUEST_PARAMETERS = ['client_id', 'redirect_uri', 'response_type', 'state', 'scope', 'code_challenge', 'code_challenge_method', 'prompt', 'nonce'] as const

export type RequestParameters = Record<string, string>

/** How long a consent page may stay open before its decision is refused. */
export const CONSENT_FORM_TTL_MS = 30 * 60 * 1000

export class ConsentFormError extends Error {
  override readonly name = 'ConsentFormError'
}

/** The request's parameters as given, those of REQUEST_PARAMETERS that are single strings. */
export function requestParameters(params: RawParams): RequestParameters {
  const picked: RequestParameters = {}
  for (const name of REQUEST_PARAMETERS) {
    const value = params[name]
    if (typeof value === 'string') picked[name] = value
  }
  return picked
}

/** Keeps the request the page is about to show; returns the id the form carries. */
export async function holdForConsent(ctx: AppContext, sessionId: string, request: { clientId: string; teamId: number; parameters: RequestParameters }): Promise<string> {
  const id = randomSecret(32)
  const now = ctx.clock()
  await insertAuthorizationRequest(ctx.db.kysely, {
    idHash: hashSecret(id),
    sessionIdHash: hashSecret(sessionId),
    clientId: request.clientId,
    teamId: request.teamId,
    parameters: request.parameters,
    createdAt: now,
    expiresAt: now + CONSENT_FORM_TTL_MS,
  })
  return id
}

function sameParameters(kept: RequestParameters, posted: RawParams): boolean {
  for (const name of REQUEST_PARAMETERS) {
    const value = posted[name]
    if (value !== undefined && typeof value !== 'string') return false
    if (value !== kept[name]) return false
  }
  return true
}

/**
 * The request a consent form was shown for, taken once: refused when the
 * form is unknown, expired, used, of another session, or posts parameters
 * (or a team) other than those shown.
 */
export async function takeConsentForm(ctx: AppContext, sessionId: string, posted: RawParams): Promise<{ teamId: number; parameters: RequestParameters }> {
  const id = posted.request_id
  if (typeof id !== 'string' || id === '') throw new ConsentFormError('This consent form is not valid. Go back to the application and start again.')
  const idHash = hashSecret(id)
  const now = ctx.clock()
  const kept = await findPendingAuthorizationRequest(ctx.db.kysely, idHash, hashSecret(sessionId), now)
  if (!kept) throw new ConsentFormError('This consent form has expired or was already used. Go back to the application and start again.')
  const used = await consume(ctx.db.kysely, 'authorization_request', idHash, now)
  if (!used) throw new ConsentFormError('This consent form was already used. Go back to the application and start again.')
  if (!sameParameters(kept.parameters, posted) || posted.team_id !== String(kept.teamId)) {
    throw new ConsentFormError('The decision does not match the request you were shown, so nothing was approved. Go back to the application and start again.')
  }
  return { teamId: kept.teamId, parameters: kept.parameters }
}
