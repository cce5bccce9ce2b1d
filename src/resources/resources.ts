import type { Db } from '../db/connection.js'
import { deleteResourceRow, findResourcesByUri, insertResource, listResourceRows } from '../db/resources.js'
import { Refusal } from '../messages.js'
import { InvalidTarget } from '../protocol/errors.js'
import { protectedResourceMetadata, protectedResourceMetadataUrl } from '../resource-server/index.js'
import type { Resource } from './types.js'

/** Where Gatehouse's own API lives under the issuer; it is a resource from the start. */
export const API_PATH = '/api/v2'

export function apiResourceUri(issuer: string): string {
  return issuer + API_PATH
}

/** The scopes the API's routes check; the OpenID Connect scopes are about identity, not the API. */
const API_SCOPES = ['read', 'write']

export function apiResource(issuer: string): Resource {
  return { uri: apiResourceUri(issuer), name: 'Gatehouse API', scopes: API_SCOPES, scopeDescriptions: {}, builtIn: true }
}

/** RFC 9728 §3.1: where clients read the API's metadata. */
export function apiResourceMetadataUrl(issuer: string): string {
  return protectedResourceMetadataUrl(apiResourceUri(issuer))
}

/** RFC 9728 §2: the API's metadata, naming Gatehouse as its authorization server. */
export function apiResourceMetadata(issuer: string): Record<string, unknown> {
  const api = apiResource(issuer)
  return protectedResourceMetadata({ resource: api.uri, issuer, scopesSupported: api.scopes, resourceName: api.name })
}

/** RFC 8707 §2: an absolute URI without a fragment; a query is discouraged there and refused here. */
export function validateResourceUri(value: string): string {
  const uri = value.trim()
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new Refusal('resource_uri_invalid')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Refusal('resource_uri_invalid')
  if (uri.includes('#') || uri.includes('?') || url.username !== '' || url.password !== '') throw new Refusal('resource_uri_invalid')
  return uri
}

/** RFC 6749 §3.3: a scope token is printable ASCII without spaces, quotes or backslashes. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

function validateScopes(scopes: string[]): string[] {
  for (const scope of scopes) if (!SCOPE_TOKEN.test(scope)) throw new Refusal('resource_scope_invalid')
  return [...new Set(scopes)]
}

/** Each description names one of the resource's scopes and says, in at most 200 characters of one line, what it lets an app do. */
function validateScopeDescriptions(scopes: string[], descriptions: Record<string, string>): Record<string, string> {
  const valid: Record<string, string> = {}
  for (const [scope, description] of Object.entries(descriptions)) {
    if (!scopes.includes(scope)) throw new Refusal('resource_scope_description_unknown')
    const words = description.trim()
    if (words === '' || words.length > 200 || /\p{Cc}/u.test(words)) throw new Refusal('resource_scope_description_invalid')
    valid[scope] = words
  }
  return valid
}

export async function createResource(
  db: Db,
  issuer: string,
  input: { uri: string; name: string; scopes: string[]; scopeDescriptions?: Record<string, string> },
  now: number,
): Promise<Resource> {
  const uri = validateResourceUri(input.uri)
  const name = input.name.trim()
  if (name === '') throw new Refusal('resource_name_required')
  if (name.length > 100) throw new Refusal('resource_name_too_long')
  const scopes = validateScopes(input.scopes)
  const scopeDescriptions = validateScopeDescriptions(scopes, input.scopeDescriptions ?? {})
  if (uri === apiResourceUri(issuer)) throw new Refusal('resource_exists')
  if (!(await insertResource(db.kysely, { uri, name, scopes, scopeDescriptions }, now))) throw new Refusal('resource_exists')
  return { uri, name, scopes, scopeDescriptions, builtIn: false }
}

export async function listResources(db: Db, issuer: string): Promise<Resource[]> {
  return [apiResource(issuer), ...(await listResourceRows(db.kysely))]
}

/** Every scope the registered resources define, for the server's metadata (scopes_supported). */
export async function resourceScopes(db: Db): Promise<string[]> {
  return [...new Set((await listResourceRows(db.kysely)).flatMap((r) => r.scopes))]
}

/** No new token names the resource once it is gone; tokens already issued for it live out their time. */
export async function deleteResource(db: Db, issuer: string, uri: string): Promise<void> {
  if (uri === apiResourceUri(issuer)) throw new Refusal('resource_built_in')
  if (!(await deleteResourceRow(db.kysely, uri))) throw new Refusal('resource_not_found', 404)
}

/**
 * The registered resources a request names, in the order named (RFC 8707
 * §2: a resource that is unknown or malformed is `invalid_target`).
 */
export async function resolveResources(db: Db, issuer: string, requested: string[]): Promise<Resource[]> {
  const uris = [...new Set(requested)]
  for (const uri of uris) {
    try {
      validateResourceUri(uri)
    } catch {
      throw new InvalidTarget(`The resource "${uri}" is not an absolute URI without query or fragment.`)
    }
  }
  const api = apiResource(issuer)
  const found = await findResourcesByUri(
    db.kysely,
    uris.filter((u) => u !== api.uri),
  )
  return uris.map((uri) => {
    const resource = uri === api.uri ? api : found.find((r) => r.uri === uri)
    if (!resource) throw new InvalidTarget(`The resource "${uri}" is not registered with this server.`)
    return resource
  })
}

export function formatResources(uris: string[]): string {
  return uris.join(' ')
}

export function splitResources(stored: string): string[] {
  return stored === '' ? [] : stored.split(' ')
}
