import type { Config } from '../../config.js'
import type { OAuthError } from '../../protocol/errors.js'

export type ResponseMode = 'query' | 'form_post'

/** Where the answer goes: the checked redirect_uri, by the mode the client asked for. */
export interface ResponseTarget {
  redirectUri: string
  responseMode: ResponseMode
}

/**
 * The answer to the client: a redirect (response_mode=query) or a form the
 * browser posts at once (OAuth 2.0 Form Post Response Mode), so the code
 * stays out of the URL.
 */
export type AuthorizationResponse = { redirect: string } | { formPost: { action: string; fields: { name: string; value: string }[] } }

type IssuerDeps = { config: Pick<Config, 'issuer'> }

/** The parameters of a response, with `iss` (RFC 9207), leaving out those not given. */
function responseFields(deps: IssuerDeps, fields: Record<string, string | undefined>): [string, string][] {
  return Object.entries({ ...fields, iss: deps.config.issuer }).filter((entry): entry is [string, string] => entry[1] !== undefined)
}

/**
 * The redirect back to the client (response_mode=query). The registered
 * URL is kept as it is and the parameters appended, so an existing query
 * string survives untouched.
 */
function responseRedirect(deps: IssuerDeps, redirectUri: string, fields: Record<string, string | undefined>): string {
  const query = responseFields(deps, fields)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&')
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query}`
}

export function authorizationResponse(deps: IssuerDeps, to: ResponseTarget, fields: Record<string, string | undefined>): AuthorizationResponse {
  if (to.responseMode === 'form_post') {
    return { formPost: { action: to.redirectUri, fields: responseFields(deps, fields).map(([name, value]) => ({ name, value })) } }
  }
  return { redirect: responseRedirect(deps, to.redirectUri, fields) }
}

/** RFC 6749 §4.1.2.1: the error, and the state it answers. */
export function errorFields(error: OAuthError, state: string | undefined): Record<string, string | undefined> {
  return { error: error.error, error_description: error.description, state }
}
