import { hashSecret, randomSecret } from '../crypto/random.js'
import { findPendingAuthorizationRequest, insertAuthorizationRequest } from '../db/authorization-requests.js'
import type { Db } from '../db/connection.js'
import { consume } from '../db/single-use.js'
import type { RawParams } from '../protocol/params.js'

/*
 * A consent page shows one authorization request; the decision posted from
 * it must answer that request and no other. The request is kept on the
 * server, bound to the browser session that was shown it, under a random id
 * the form carries. The form also carries the request's parameters, and a
 * decision whose parameters differ from those kept is refused, so a changed
 * scope, client, redirect URI, PKCE challenge, state, nonce, resource,
 * response mode or login requirement never becomes a code.
 *
 *   GET shows page ──▶ pending (session, team, parameters) ──POST, same session,
 *   same parameters──▶ consumed once ──▶ approve / deny
 *                      └─ other session, changed parameters, expired, used ──▶ 400, no code
 */

/**
 * The authorization request's parameters the consent page carries. A new
 * parameter of the request is added here, and is then bound to the decision
 * like the others. `login_requested` is the signed mark of a login the
 * request asked for (prompt=login, max_age), which the decision must not
 * be able to move.
 */
export const REQUEST_PARAMETERS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'state',
  'scope',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'resource',
  'prompt',
  'max_age',
  'login_hint',
  'login_requested',
] as const

/** Single values, or every value of a repeatable parameter (`resource`, RFC 8707 §2). */
export type RequestParameters = Record<string, string | string[]>

/** How long a consent page may stay open before its decision is refused. */
export const CONSENT_FORM_TTL_MS = 30 * 60 * 1000

export interface ConsentFormDeps {
  db: Db
  clock: () => number
}

export class ConsentFormError extends Error {
  override readonly name = 'ConsentFormError'
}

/** The request's parameters of REQUEST_PARAMETERS, as given. */
export function requestParameters(params: RawParams): RequestParameters {
  const picked: RequestParameters = {}
  for (const name of REQUEST_PARAMETERS) {
    const value = params[name]
    if (typeof value === 'string') picked[name] = value
    else if (Array.isArray(value)) picked[name] = value.filter((v): v is string => typeof v === 'string')
  }
  return picked
}

function sameValue(kept: string | string[] | undefined, posted: unknown): boolean {
  if (typeof kept === 'string' || kept === undefined) return posted === kept
  return Array.isArray(posted) && posted.length === kept.length && posted.every((v, i) => v === kept[i])
}

/** Keeps the request the page is about to show; returns the id the form carries. */
export async function holdForConsent(
  deps: ConsentFormDeps,
  sessionId: string,
  request: { clientId: string; teamId: number; parameters: RequestParameters },
): Promise<string> {
  const id = randomSecret(32)
  const now = deps.clock()
  await insertAuthorizationRequest(deps.db.kysely, {
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
  return REQUEST_PARAMETERS.every((name) => sameValue(kept[name], posted[name]))
}

/**
 * The request a consent form was shown for, taken once: refused when the
 * form is unknown, expired, used, of another session, or posts parameters
 * (or a team) other than those shown.
 */
export async function takeConsentForm(deps: ConsentFormDeps, sessionId: string, posted: RawParams): Promise<{ teamId: number; parameters: RequestParameters }> {
  const id = posted.request_id
  if (typeof id !== 'string' || id === '') throw new ConsentFormError('This consent form is not valid. Go back to the application and start again.')
  const idHash = hashSecret(id)
  const now = deps.clock()
  const kept = await findPendingAuthorizationRequest(deps.db.kysely, idHash, hashSecret(sessionId), now)
  if (!kept) throw new ConsentFormError('This consent form has expired or was already used. Go back to the application and start again.')
  const used = await consume(deps.db.kysely, 'authorization_request', idHash, now)
  if (!used) throw new ConsentFormError('This consent form was already used. Go back to the application and start again.')
  if (!sameParameters(kept.parameters, posted) || posted.team_id !== String(kept.teamId)) {
    throw new ConsentFormError('The decision does not match the request you were shown, so nothing was approved. Go back to the application and start again.')
  }
  return { teamId: kept.teamId, parameters: kept.parameters }
}
