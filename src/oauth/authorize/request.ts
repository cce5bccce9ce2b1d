import { ACR_VALUES, isKnownAcr, type Acr } from '../../accounts/assurance.js'
import { findClient } from '../../clients/clients.js'
import { withinDeclaredScope } from '../../clients/declared-use.js'
import { chooseRedirectUri } from '../../clients/redirect-uris.js'
import { isMetadataDocumentUrl, MetadataDocumentError, resolveMetadataDocumentClient } from '../../clients/metadata-document.js'
import type { Client } from '../../clients/types.js'
import type { Config } from '../../config.js'
import type { Db } from '../../db/connection.js'
import { resolveResources } from '../../resources/resources.js'
import type { Resource } from '../../resources/types.js'
import { AccessDenied, InvalidRequest, RequestNotSupported, RequestUriNotSupported, UnsupportedResponseType } from '../../protocol/errors.js'
import { param, repeatedParam, type RawParams } from '../../protocol/params.js'
import { challengeOfRequest } from '../../protocol/pkce.js'
import { isOpenIdRequest, parseScope } from '../../protocol/scopes.js'
import type { ResponseMode } from './response.js'

/*
 * The authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1),
 * read and checked in two steps: first what may be trusted with a redirect,
 * then the rest. What to do with it is decision.ts's to say.
 */

export interface RequestDeps {
  db: Db
  config: Pick<Config, 'issuer' | 'outboundAllowedHosts'>
  clock: () => number
}

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
  /**
   * The authentication classes the client asked for (`acr_values`, or the
   * `claims` parameter's `acr`), those Gatehouse knows; any one of them
   * will do. Empty: whatever the session has.
   */
  acrValues: Acr[]
}

/**
 * How the response goes back (OAuth 2.0 Multiple Response Types §2.1, Form
 * Post Response Mode): read first and leniently, so that errors in the
 * other parameters travel the way the client asked.
 */
export function responseModeOf(params: RawParams): ResponseMode {
  return params.response_mode === 'form_post' ? 'form_post' : 'query'
}

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account'])

/** A registered client, or one whose client_id is the URL of its metadata document, fetched if need be. */
async function authorizingClient(ctx: RequestDeps, clientId: string): Promise<Client | undefined> {
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
export async function resolveRedirect(ctx: RequestDeps, params: RawParams): Promise<{ client: Client; redirectUri: string }> {
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
export function requestedResources(ctx: RequestDeps, params: RawParams): Promise<Resource[]> {
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
  const scopes = withinDeclaredScope(
    client,
    parseScope(
      param(params, 'scope'),
      resources.flatMap((r) => r.scopes),
    ),
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
  const acrValues = requestedAcr(param(params, 'acr_values'), param(params, 'claims'))
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
    acrValues,
  }
}

/**
 * OpenID Connect Core §3.1.2.1 `acr_values` and §5.5.1.1 the `acr` of the
 * `claims` parameter's id_token member. Gatehouse never issues a lower class
 * than asked for: it steps the login up instead. Values it does not know are
 * left out; an essential `acr` of nothing but such values cannot be met.
 */
function requestedAcr(acrValues: string | undefined, claims: string | undefined): Acr[] {
  const wanted = (acrValues ?? '').split(' ').filter((v) => v !== '')
  let essentialUnknown = false
  if (claims !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(claims)
    } catch {
      throw new InvalidRequest('claims must be a JSON object.')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidRequest('claims must be a JSON object.')
    const acr = (parsed as { id_token?: { acr?: unknown } }).id_token?.acr
    if (typeof acr === 'object' && acr !== null) {
      const { value, values, essential } = acr as { value?: unknown; values?: unknown; essential?: unknown }
      const listed = [value, ...(Array.isArray(values) ? values : [])].filter((v): v is string => typeof v === 'string')
      wanted.push(...listed)
      essentialUnknown = essential === true && listed.length > 0 && !listed.some(isKnownAcr)
    }
  }
  if (essentialUnknown) throw new AccessDenied(`None of the requested acr values is offered here; they are ${ACR_VALUES.join(', ')}.`)
  return [...new Set(wanted.filter(isKnownAcr))]
}
