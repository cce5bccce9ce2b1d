import { randomUUID } from 'node:crypto'
import { findClient } from '../../clients/clients.js'
import { chooseRedirectUri } from '../../clients/redirect-uris.js'
import { isMetadataDocumentUrl, MetadataDocumentError, resolveMetadataDocumentClient } from '../../clients/metadata-document.js'
import type { Client } from '../../clients/types.js'
import type { ActivityLog } from '../../activity/recorder.js'
import type { Config } from '../../config.js'
import type { Db } from '../../db/connection.js'
import { hashSecret, randomSecret } from '../../crypto/random.js'
import { insertAuthorizationCode } from '../../db/authorization-codes.js'
import { findConsent, upsertConsent } from '../../db/consents.js'
import { recordSessionClient } from '../../db/sessions.js'
import { formatResources, resolveResources, splitResources } from '../../resources/resources.js'
import type { Resource } from '../../resources/types.js'
import { NO_OPENID_LOGIN } from '../../tokens/types.js'
import { InvalidRequest, OAuthError, RequestNotSupported, RequestUriNotSupported, UnsupportedResponseType } from '../../protocol/errors.js'
import { param, repeatedParam, type RawParams } from '../../protocol/params.js'
import { challengeOfRequest } from '../../protocol/pkce.js'
import { coversScopes, formatScopes, isOpenIdRequest, parseScope, splitScopes } from '../../protocol/scopes.js'

/*
 * The authorization request, from the integrator's redirect to the answer:
 *
 *   GET /oauth/authorize ──(client_id / redirect_uri bad)──▶ error page, never a redirect
 *        │ ──(request / request_uri / other parameter bad)──▶ response: error, state, iss
 *        ▼
 *   prompt=none? ──▶ no page may be shown: a code, or login_required /
 *        │           consent_required / interaction_required
 *        ▼
 *   logged in, recently enough (max_age), not asked to log in again (prompt=login)?
 *        │ ──no──▶ /login (login_hint fills the e-mail) ──▶ back to the same GET
 *        ▼
 *   consent on file for user + client + team covering the scopes (only for
 *   confidential clients a person registered), or a first-party client that
 *   skips it? ──yes──▶ response: code, state, iss
 *        ▼ no (or prompt=consent, or a public or self-registered client: always asked)
 *   consent page (request kept server-side, see consent-forms.ts)
 *        ├─POST approve, same session and parameters──▶ consent recorded ──▶ response: code, state, iss
 *        ├─POST deny──────────────────────────────────▶ response: error=access_denied, state, iss
 *        └─POST changed, replayed, expired────────────▶ 400 page, no code
 *
 * The response goes by redirect (response_mode=query) or by an
 * auto-submitted form (response_mode=form_post).
 */

export interface AuthorizeDeps {
  db: Db
  activity: ActivityLog
  config: Pick<Config, 'issuer' | 'clientMetadataAllowedHosts'>
  clock: () => number
}

export const AUTHORIZATION_CODE_TTL_MS = 10 * 60 * 1000

/** A request that cannot be answered with a redirect: the client or its redirect_uri cannot be trusted. */
export class UntrustedRedirectError extends Error {
  override readonly name = 'UntrustedRedirectError'
}

export interface AuthorizationRequest {
  client: Client
  redirectUri: string
  state: string | undefined
  scopes: string[]
  /** RFC 8707: the resources the token is to be for; none means the client itself. */
  resources: Resource[]
  codeChallenge: string | undefined
  forceConsent: boolean
  /** OpenID Connect Core §3.1.2.1: echoed in the ID token. */
  nonce: string | undefined
  /** `prompt=none`: answer without showing any page. */
  noPrompt: boolean
  /** `prompt=login`: the user must enter their password again. */
  forceLogin: boolean
  /** Seconds: a login older than this must be repeated. */
  maxAge: number | undefined
  loginHint: string | undefined
  idTokenHint: string | undefined
  responseMode: ResponseMode
}

export type ResponseMode = 'query' | 'form_post'

/**
 * How the response goes back (OAuth 2.0 Multiple Response Types §2.1, Form
 * Post Response Mode): read first and leniently, so that errors in the
 * other parameters travel the way the client asked.
 */
export function responseModeOf(params: RawParams): ResponseMode {
  return params.response_mode === 'form_post' ? 'form_post' : 'query'
}

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account'])

/** Who approves: the user, the team the tokens act in, and the session they signed in with. */
export interface Approver {
  userId: number
  teamId: number
  sid: string
  /** Epoch ms of the session's password login. */
  authenticatedAt: number
  /** When the session ends, the record of the clients it signed in to may go. */
  sessionExpiresAt: number
  /** Where the approval came from, for the team's activity log. */
  address: string
  /** The user approved on the consent page (rather than by an approval on file or a client that skips the page). */
  onConsentPage?: boolean
}

/** A registered client, or one whose client_id is the URL of its metadata document, fetched if need be. */
async function authorizingClient(ctx: AuthorizeDeps, clientId: string): Promise<Client | undefined> {
  if (!isMetadataDocumentUrl(clientId)) return findClient(ctx.db, clientId)
  try {
    return await resolveMetadataDocumentClient(ctx, clientId)
  } catch (err) {
    if (err instanceof MetadataDocumentError)
      throw new UntrustedRedirectError(`The application's metadata document at ${clientId} cannot be used: ${err.message}.`)
    throw err
  }
}

/** Step one: the client and the redirect_uri, which must be checked before anything may be sent back to it. */
export async function resolveRedirect(ctx: AuthorizeDeps, params: RawParams): Promise<{ client: Client; redirectUri: string }> {
  let clientId: string | undefined
  let requested: string | undefined
  try {
    clientId = param(params, 'client_id')
    requested = param(params, 'redirect_uri')
  } catch {
    throw new UntrustedRedirectError('client_id and redirect_uri must each be given once.')
  }
  if (!clientId) throw new UntrustedRedirectError('The request has no client_id.')
  const client = await authorizingClient(ctx, clientId)
  if (!client) throw new UntrustedRedirectError('No application is registered with this client_id.')
  // OpenID Connect Core §3.1.2.1: redirect_uri is required there; plain OAuth keeps RFC 6749 §3.1.2.3's single registered default.
  if (requested === undefined && asksForOpenId(params)) throw new UntrustedRedirectError(REDIRECT_REFUSALS.missingForOpenId)
  const choice = chooseRedirectUri(client.redirectUris, requested)
  if ('refused' in choice) throw new UntrustedRedirectError(REDIRECT_REFUSALS[choice.refused])
  return { client, redirectUri: choice.uri }
}

/** Read leniently, before the scope is checked: a malformed scope is refused later, by redirect, once redirect_uri is known. */
function asksForOpenId(params: RawParams): boolean {
  const values = ([] as unknown[]).concat(params.scope ?? [])
  return values.some((value) => typeof value === 'string' && isOpenIdRequest(value.split(' ')))
}

const REDIRECT_REFUSALS = {
  missing: 'The request has no redirect_uri, and the application has several.',
  missingForOpenId: 'The request has no redirect_uri, which an OpenID Connect sign-in request must have.',
  unregistered: 'The redirect_uri is not registered for this application.',
  unusable: "The application's registered redirect URL is not valid. Its developer must correct it in the developer settings.",
} as const

/** RFC 8707 §2: the `resource` parameters, each a registered resource; a failure is reported by redirect. */
export function requestedResources(ctx: AuthorizeDeps, params: RawParams): Promise<Resource[]> {
  return resolveResources(ctx.db, ctx.config.issuer, repeatedParam(params, 'resource'))
}

/** Step two: the rest of the parameters; a failure here is reported to the client by redirect. */
export function parseAuthorizationRequest(client: Client, redirectUri: string, params: RawParams, resources: Resource[]): AuthorizationRequest {
  // state goes back on error redirects too, so read it first and leniently.
  const rawState = params.state
  const state = typeof rawState === 'string' ? rawState : undefined
  const responseType = param(params, 'response_type')
  if (responseType === undefined) throw new InvalidRequest('The response_type parameter is required.')
  if (responseType !== 'code') throw new UnsupportedResponseType('Only response_type=code is supported.')
  if (Array.isArray(rawState)) throw new InvalidRequest('The state parameter must not be repeated.')
  const scopes = parseScope(
    param(params, 'scope'),
    resources.flatMap((r) => r.scopes),
  )
  const codeChallenge = challengeOfRequest(client, param(params, 'code_challenge'), param(params, 'code_challenge_method'))
  // OpenID Connect Core §6.1, §6.2: request objects are not supported, and say so.
  if (params.request !== undefined) throw new RequestNotSupported()
  if (params.request_uri !== undefined) throw new RequestUriNotSupported()
  const responseMode = param(params, 'response_mode')
  if (responseMode !== undefined && responseMode !== 'query' && responseMode !== 'form_post')
    throw new InvalidRequest('response_mode must be query or form_post.')
  const prompts = (param(params, 'prompt') ?? '').split(' ').filter((p) => p !== '')
  if (prompts.some((p) => !PROMPTS.has(p))) throw new InvalidRequest('prompt must be none, login, consent or select_account.')
  // OpenID Connect Core §3.1.2.1: none with any other value is an error.
  if (prompts.includes('none') && prompts.length > 1) throw new InvalidRequest('prompt=none cannot be combined with other values.')
  const rawMaxAge = param(params, 'max_age')
  if (rawMaxAge !== undefined && !/^\d{1,10}$/.test(rawMaxAge)) throw new InvalidRequest('max_age must be a number of seconds.')
  const text = (name: string) => {
    const value = param(params, name)
    return value === '' ? undefined : value
  }
  return {
    client,
    redirectUri,
    state,
    scopes,
    resources,
    codeChallenge,
    forceConsent: prompts.includes('consent'),
    nonce: text('nonce'),
    noPrompt: prompts.includes('none'),
    forceLogin: prompts.includes('login'),
    maxAge: rawMaxAge === undefined ? undefined : Number(rawMaxAge),
    loginHint: text('login_hint'),
    idTokenHint: text('id_token_hint'),
    responseMode: responseModeOf(params),
  }
}

/**
 * "Unobstructive" (seed 000): a user who already approved this client in this
 * team for these scopes is not asked again, when the client is one whose
 * approvals may be remembered (confidential clients a person registered; see Client).
 */
export async function hasConsent(ctx: AuthorizeDeps, request: AuthorizationRequest, userId: number, teamId: number): Promise<boolean> {
  if (request.forceConsent || !request.client.mayRememberConsent) return false
  if (skipsConsent(request.client)) return true
  const stored = await findConsent(ctx.db.kysely, userId, request.client.id, teamId)
  // Only implied by the switch that is now off: the user never saw the page, so they see it now.
  if (stored === undefined || stored.implied === 1 || !consentCovers(splitScopes(stored.scopes), request.scopes)) return false
  const approvedResources = splitResources(stored.resources)
  return request.resources.every((r) => approvedResources.includes(r.uri))
}

/** The product's own apps, marked by the operator; never a public client, whose identity no secret proves. */
export function skipsConsent(client: Client): boolean {
  return client.skipConsent && client.isFirstParty && client.isConfidential
}

/**
 * Is the session's login recent enough for the request? `prompt=login` and
 * `max_age=0` need a login made after the request sent the user to log in
 * (`loginRequestedAt`, which the login page brings back); `max_age=N` one
 * made in the last N seconds (OpenID Connect Core §3.1.2.1).
 */
export function isLoginFresh(request: AuthorizationRequest, authenticatedAt: number, now: number, loginRequestedAt: number | undefined): boolean {
  if (loginRequestedAt !== undefined && authenticatedAt >= loginRequestedAt) return true
  if (request.forceLogin) return false
  return request.maxAge === undefined || now - authenticatedAt <= request.maxAge * 1000
}

/**
 * No scopes means all of the user's permissions in the team (see scopes.ts),
 * so an approval of some scopes does not cover a request for none, and an
 * approval of none covers every request.
 */
function consentCovers(approved: string[], requested: string[]): boolean {
  if (approved.length === 0) return true
  return requested.length > 0 && coversScopes(approved, requested)
}

/** Records the approval and issues a single-use code bound to everything the token will carry. */
export async function approve(ctx: AuthorizeDeps, request: AuthorizationRequest, approver: Approver): Promise<string> {
  const { userId, teamId } = approver
  const now = ctx.clock()
  const code = randomSecret(32)
  const openid = isOpenIdRequest(request.scopes)
  await ctx.db.kysely.transaction().execute(async (trx) => {
    // Writing first takes SQLite's write lock before anything is read: a
    // transaction that reads first cannot upgrade while another process
    // writes and fails at once (SQLITE_BUSY) instead of waiting its turn.
    await insertAuthorizationCode(trx, {
      codeHash: hashSecret(code),
      clientId: request.client.id,
      userId,
      teamId,
      redirectUri: request.redirectUri,
      scopes: formatScopes(request.scopes),
      codeChallenge: request.codeChallenge ?? null,
      resources: formatResources(request.resources.map((r) => r.uri)),
      grantId: randomUUID(),
      createdAt: now,
      expiresAt: now + AUTHORIZATION_CODE_TTL_MS,
      login: openid ? { nonce: request.nonce ?? null, sid: approver.sid, authTime: approver.authenticatedAt } : NO_OPENID_LOGIN,
    })
    const stored = await findConsent(trx, userId, request.client.id, teamId)
    const approvedAll = (stored !== undefined && splitScopes(stored.scopes).length === 0) || request.scopes.length === 0
    const union = approvedAll ? [] : [...new Set([...splitScopes(stored?.scopes ?? ''), ...request.scopes])].sort()
    const resources = [...new Set([...splitResources(stored?.resources ?? ''), ...request.resources.map((r) => r.uri)])]
    const implied = approver.onConsentPage !== true && skipsConsent(request.client) && (stored === undefined || stored.implied === 1)
    await upsertConsent(trx, userId, request.client.id, teamId, { scopes: formatScopes(union), resources: formatResources(resources), implied }, now)
    // Back-channel logout 1.0 §2.7: the clients this session signed in to hear when it ends.
    if (openid) await recordSessionClient(trx, approver.sid, request.client.id, userId, now, approver.sessionExpiresAt)
  })
  ctx.activity.record({ action: 'app.authorised', teamId, userId, clientId: request.client.id, detail: request.client.name, address: approver.address })
  return code
}

/** The parameters of a response, with `iss` (RFC 9207), leaving out those not given. */
export function responseFields(ctx: { config: Pick<Config, 'issuer'> }, fields: Record<string, string | undefined>): [string, string][] {
  return Object.entries({ ...fields, iss: ctx.config.issuer }).filter((entry): entry is [string, string] => entry[1] !== undefined)
}

/**
 * The redirect back to the client (response_mode=query). The registered
 * URL is kept as it is and the parameters appended, so an existing query
 * string survives untouched.
 */
export function responseRedirect(ctx: { config: Pick<Config, 'issuer'> }, redirectUri: string, fields: Record<string, string | undefined>): string {
  const query = responseFields(ctx, fields)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query}`
}

export function errorFields(error: OAuthError, state: string | undefined): Record<string, string | undefined> {
  return { error: error.error, error_description: error.description, state }
}
