import type { Db } from '../../db/connection.js'
import { listResourceRows } from '../../db/resources.js'
import { Refusal } from '../../messages.js'
import { isBlankName } from '../../names.js'
import type { SigningAlgorithm } from '../../keys/algorithms.js'
import { InvalidClientMetadata, InvalidRedirectUri, type OAuthError } from '../../protocol/errors.js'
import { SCOPES } from '../../protocol/scopes.js'
import { isInternalHost } from '../../outbound/addresses.js'
import { isLoopbackHost, validateRedirectUri } from '../redirect-uris.js'
import { DEVICE_CODE_GRANT } from '../../oauth/device/authorization.js'
import { ClientKeysError, parseJwks, validateJwksUri } from '../client-keys.js'
import type { JsonWebKeySet } from '../types.js'

const GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT]
const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']
const MAX_REDIRECT_URIS = 10
const MAX_NAME = 100
const MAX_TEXT = 200
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/** RFC 7591 §2: the client metadata Gatehouse keeps, as stored and answered (no field is ever null). */
export interface ClientMetadata {
  redirect_uris: string[]
  client_name?: string
  grant_types: string[]
  response_types: string[]
  token_endpoint_auth_method: string
  scope?: string
  client_uri?: string
  logo_uri?: string
  contacts?: string[]
  software_id?: string
  software_version?: string
  /** OpenID Connect RP-Initiated Logout §3.1; taken from dynamic registration and Client ID Metadata Documents. */
  post_logout_redirect_uris?: string[]
  /** OpenID Connect Back-Channel Logout §2.2; taken from dynamic registration only. */
  backchannel_logout_uri?: string
  backchannel_logout_session_required?: boolean
  /** OpenID Connect Registration §2; taken from dynamic registration only. */
  id_token_signed_response_alg?: SigningAlgorithm
  /** RFC 7591 §2: the public keys of a private_key_jwt client, or where to fetch them; one of the two. */
  jwks?: JsonWebKeySet
  jwks_uri?: string
}

function optionalString(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new InvalidClientMetadata(`${field} must be a string.`)
  if (CONTROL.test(value)) throw new InvalidClientMetadata(`${field} must not contain control characters.`)
  if (value.length > max) throw new InvalidClientMetadata(`${field} must be at most ${max} characters long.`)
  return value
}

function stringList(body: Record<string, unknown>, field: string): string[] | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) throw new InvalidClientMetadata(`${field} must be an array of strings.`)
  return value
}

/** A web page or image of the client: https, or http on a loopback address; never javascript: or data:. */
function webUrl(body: Record<string, unknown>, field: string): string | undefined {
  const value = optionalString(body, field, 2000)
  if (value === undefined) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InvalidClientMetadata(`${field} must be a full https URL.`)
  }
  const allowed = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
  if (!allowed || url.username !== '' || url.password !== '') throw new InvalidClientMetadata(`${field} must be an https URL.`)
  return value
}

/**
 * A URL a client registers for itself: the same rules as the portal's and
 * the command line's (https, or http on loopback; no fragment, no
 * credentials), and, since no person typed it, nothing is trimmed or
 * forgiven: control characters and surrounding spaces are refused.
 */
function registeredUri(uri: unknown, what: string, refuse: (description: string) => OAuthError): string {
  if (typeof uri !== 'string') throw refuse(`Each ${what} must be a string.`)
  if (CONTROL.test(uri) || uri.trim() !== uri || uri.includes(' '))
    throw refuse(`The ${what} "${uri.replace(CONTROL, '?')}" contains spaces or control characters.`)
  try {
    return validateRedirectUri(uri)
  } catch (err) {
    if (err instanceof Refusal) throw refuse(`${err.message} (${uri})`)
    throw err
  }
}

function registeredUris(value: unknown[], what: string, refuse: (description: string) => OAuthError): string[] {
  if (value.length > MAX_REDIRECT_URIS) throw refuse(`At most ${MAX_REDIRECT_URIS} ${what}s may be registered.`)
  const uris = value.map((uri) => registeredUri(uri, what, refuse))
  if (new Set(uris).size !== uris.length) throw refuse(`Each ${what} may be listed only once.`)
  return uris
}

const invalidRedirectUri = (description: string) => new InvalidRedirectUri(description)
const invalidClientMetadata = (description: string) => new InvalidClientMetadata(description)

export function validateRegisteredRedirectUris(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidRedirectUri('redirect_uris must list at least one redirect URL.')
  return registeredUris(value, 'redirect URL', invalidRedirectUri)
}

/** OpenID Connect RP-Initiated Logout §3.1: post-logout URLs follow the rules of redirect URLs; also read from Client ID Metadata Documents. */
export function parsePostLogoutRedirectUris(fields: Record<string, unknown>): string[] | undefined {
  const value = fields.post_logout_redirect_uris
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) throw new InvalidClientMetadata('post_logout_redirect_uris must be an array of URLs.')
  return registeredUris(value, 'post-logout redirect URL', invalidClientMetadata)
}

type LogoutMetadata = Pick<ClientMetadata, 'post_logout_redirect_uris' | 'backchannel_logout_uri' | 'backchannel_logout_session_required'>

/**
 * OpenID Connect RP-Initiated Logout §3.1 and Back-Channel Logout §2.2: the
 * logout metadata of a client that registers itself. Post-logout URLs follow
 * the rules of its redirect URLs; the back-channel URL is called by Gatehouse,
 * not a browser, so it must be https on a public host.
 */
function parseLogoutMetadata(fields: Record<string, unknown>): LogoutMetadata {
  const metadata: LogoutMetadata = {}
  const postLogout = parsePostLogoutRedirectUris(fields)
  if (postLogout !== undefined) metadata.post_logout_redirect_uris = postLogout
  const backchannel = fields.backchannel_logout_uri
  if (backchannel !== undefined && backchannel !== null) {
    const uri = registeredUri(backchannel, 'back-channel logout URL', invalidClientMetadata)
    const url = new URL(uri)
    if (url.protocol !== 'https:' || isInternalHost(url.hostname))
      throw new InvalidClientMetadata(`The back-channel logout URL must be an https URL on a public host (${uri}).`)
    metadata.backchannel_logout_uri = uri
  }
  const sessionRequired = fields.backchannel_logout_session_required
  if (sessionRequired !== undefined && sessionRequired !== null) {
    if (typeof sessionRequired !== 'boolean') throw new InvalidClientMetadata('backchannel_logout_session_required must be true or false.')
    // Every logout token carries sid, so either answer is kept as given.
    metadata.backchannel_logout_session_required = sessionRequired
  }
  return metadata
}

/**
 * OpenID Connect Registration §2: the algorithm of the client's ID tokens,
 * one of those discovery lists; RS256 when left out.
 */
function parseIdTokenAlgorithm(fields: Record<string, unknown>, offered: readonly SigningAlgorithm[]): SigningAlgorithm | undefined {
  const value = optionalString(fields, 'id_token_signed_response_alg', MAX_TEXT)
  if (value === undefined) return undefined
  const alg = offered.find((a) => a === value)
  if (!alg) throw new InvalidClientMetadata(`The id_token_signed_response_alg "${value}" is not supported; use ${offered.join(', ')}.`)
  return alg
}

/** Dynamic registration's metadata: RFC 7591's, with the OpenID Connect logout metadata and ID token algorithm. */
export async function parseDynamicClientMetadata(db: Db, body: unknown, idTokenAlgorithms: readonly SigningAlgorithm[]): Promise<ClientMetadata> {
  const metadata = await parseClientMetadata(db, body)
  const fields = body as Record<string, unknown>
  const alg = parseIdTokenAlgorithm(fields, idTokenAlgorithms)
  return { ...metadata, ...parseLogoutMetadata(fields), ...(alg !== undefined && { id_token_signed_response_alg: alg }) }
}

/**
 * RFC 7591 §2 `jwks` and `jwks_uri`: a private_key_jwt client registers one
 * of the two (public keys only; an https URL on a public host), and no other
 * client registers either.
 */
function parseKeyMetadata(fields: Record<string, unknown>, authMethod: string): Pick<ClientMetadata, 'jwks' | 'jwks_uri'> {
  const jwks = fields.jwks ?? undefined
  const jwksUri = fields.jwks_uri ?? undefined
  if (authMethod !== 'private_key_jwt') {
    if (jwks !== undefined || jwksUri !== undefined)
      throw new InvalidClientMetadata('jwks and jwks_uri are only for token_endpoint_auth_method private_key_jwt.')
    return {}
  }
  if ((jwks === undefined) === (jwksUri === undefined))
    throw new InvalidClientMetadata('A private_key_jwt client registers its public keys: jwks or jwks_uri, one of the two.')
  try {
    if (jwks !== undefined) return { jwks: parseJwks(jwks) }
    if (typeof jwksUri !== 'string') throw new InvalidClientMetadata('jwks_uri must be a string.')
    return { jwks_uri: validateJwksUri(jwksUri) }
  } catch (err) {
    if (err instanceof ClientKeysError) throw new InvalidClientMetadata(err.message)
    throw err
  }
}

/**
 * RFC 7591 §2: reads the metadata a client sent. Unknown fields are ignored
 * (§2: the server must ignore what it does not understand); known ones are
 * checked and refused with invalid_client_metadata or invalid_redirect_uri.
 */
export async function parseClientMetadata(db: Db, body: unknown): Promise<ClientMetadata> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidClientMetadata('The request body must be a JSON object of client metadata.')
  const fields = body as Record<string, unknown>
  const redirectUris = validateRegisteredRedirectUris(fields.redirect_uris)

  const grantTypes = stringList(fields, 'grant_types') ?? ['authorization_code']
  for (const g of grantTypes)
    if (!GRANT_TYPES.includes(g)) throw new InvalidClientMetadata(`The grant type "${g}" is not supported; use ${GRANT_TYPES.join(', ')}.`)
  if (!grantTypes.includes('authorization_code')) throw new InvalidClientMetadata('grant_types must include authorization_code.')
  const responseTypes = stringList(fields, 'response_types') ?? ['code']
  for (const r of responseTypes) if (r !== 'code') throw new InvalidClientMetadata(`The response type "${r}" is not supported; use code.`)

  const authMethod = optionalString(fields, 'token_endpoint_auth_method', MAX_TEXT) ?? 'client_secret_basic'
  if (!AUTH_METHODS.includes(authMethod))
    throw new InvalidClientMetadata(`The token_endpoint_auth_method "${authMethod}" is not supported; use ${AUTH_METHODS.join(', ')}.`)
  const keys = parseKeyMetadata(fields, authMethod)

  const name = optionalString(fields, 'client_name', MAX_NAME)
  if (name !== undefined && isBlankName(name)) throw new InvalidClientMetadata('client_name must not be empty or invisible.')

  const scope = optionalString(fields, 'scope', 2000)
  if (scope !== undefined) {
    const known = new Set([...Object.keys(SCOPES), ...(await listResourceRows(db.kysely)).flatMap((r) => r.scopes)])
    for (const s of scope.split(' ').filter((x) => x !== '')) if (!known.has(s)) throw new InvalidClientMetadata(`Unknown scope "${s}".`)
  }

  const contacts = stringList(fields, 'contacts')
  if (contacts !== undefined) {
    if (contacts.length > 10) throw new InvalidClientMetadata('At most 10 contacts may be given.')
    for (const c of contacts)
      if (c.length > MAX_TEXT || CONTROL.test(c)) throw new InvalidClientMetadata('Each contact must be at most 200 characters, without control characters.')
  }

  const metadata: ClientMetadata = {
    redirect_uris: redirectUris,
    grant_types: [...new Set(grantTypes)],
    response_types: [...new Set(responseTypes)],
    token_endpoint_auth_method: authMethod,
    ...keys,
  }
  const optional = {
    client_name: name?.trim(),
    scope,
    client_uri: webUrl(fields, 'client_uri'),
    logo_uri: webUrl(fields, 'logo_uri'),
    contacts,
    software_id: optionalString(fields, 'software_id', MAX_TEXT),
    software_version: optionalString(fields, 'software_version', MAX_TEXT),
  }
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(metadata, { [key]: value })
  return metadata
}

/** The name people see: the one the client chose, or else the host it sends users back to. */
export function displayName(metadata: { client_name?: string; redirect_uris: string[] }): string {
  return metadata.client_name ?? new URL(metadata.redirect_uris[0]!).host
}
