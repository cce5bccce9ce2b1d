import type { Config } from '../config.js'
import type { Db } from '../db/connection.js'
import { findSelfRegisteredClient, upsertMetadataDocumentClient } from '../db/clients.js'
import { cacheLifetimeMs } from '../outbound/cache-lifetime.js'
import { callOut, OutboundFailed, OutboundRefused } from '../outbound/request.js'
import { displayName, parseClientMetadata, parsePostLogoutRedirectUris } from './registration/metadata.js'
import type { Client } from './types.js'
import { metadataDocumentFetches } from '../observability/metrics.js'

/*
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
 * a client_id that is an https URL names a JSON document of client metadata,
 * which Gatehouse fetches, checks and keeps until its cache lifetime ends.
 */

/** A few KB is plenty for a client's metadata; more is refused rather than read. */
export const MAX_DOCUMENT_BYTES = 5 * 1024
/** The whole fetch, connection included. */
export const FETCH_TIMEOUT_MS = 3000

export class MetadataDocumentError extends Error {
  override readonly name = 'MetadataDocumentError'
}

/** The draft §3: an https URL with a path, no fragment, no credentials. */
export function isMetadataDocumentUrl(clientId: string): boolean {
  if (!clientId.startsWith('https://')) return false
  let url: URL
  try {
    url = new URL(clientId)
  } catch {
    return false
  }
  return url.pathname !== '/' && url.hash === '' && !clientId.includes('#') && url.username === '' && url.password === ''
}

/** Fetches the document through the outbound guard: https on a public address (or an allowed host), no redirects, within the size and time limits. */
export async function fetchMetadataDocument(url: URL, allowedHosts: readonly string[]): Promise<{ body: unknown; cacheControl: string | undefined }> {
  try {
    const fetched = await fetchDocument(url, allowedHosts)
    metadataDocumentFetches.fetched.inc()
    return fetched
  } catch (err) {
    metadataDocumentFetches.failed.inc()
    throw err
  }
}

async function fetchDocument(url: URL, allowedHosts: readonly string[]): Promise<{ body: unknown; cacheControl: string | undefined }> {
  let answer
  try {
    answer = await callOut(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      timeoutMs: FETCH_TIMEOUT_MS,
      maxBodyBytes: MAX_DOCUMENT_BYTES,
      allowedHosts,
    })
  } catch (err) {
    if (err instanceof OutboundRefused) throw new MetadataDocumentError(err.message)
    if (err instanceof OutboundFailed) throw new MetadataDocumentError(`the document could not be fetched: ${err.message}`)
    throw err
  }
  if (answer.status !== 200) {
    const redirect = answer.status >= 300 && answer.status < 400
    throw new MetadataDocumentError(`the document answered HTTP ${answer.status}${redirect ? ' (redirects are not followed)' : ''}`)
  }
  try {
    return { body: JSON.parse(answer.body.toString('utf8')) as unknown, cacheControl: answer.headers['cache-control'] }
  } catch {
    throw new MetadataDocumentError('the document is not JSON')
  }
}

export interface MetadataDocumentDeps {
  db: Db
  config: Pick<Config, 'outboundAllowedHosts'>
  clock: () => number
}

/**
 * The client a metadata-document client_id names, fetched again once its
 * cache lifetime is over. Such clients are public and unverified; their
 * redirect URIs bind like registered ones.
 */
export async function resolveMetadataDocumentClient(deps: MetadataDocumentDeps, clientId: string): Promise<Client> {
  const now = deps.clock()
  const known = await findSelfRegisteredClient(deps.db.kysely, clientId)
  if (known && known.client.kind !== 'metadata_document') throw new MetadataDocumentError('the client_id belongs to another client')
  if (known && known.metadataExpiresAt !== null && known.metadataExpiresAt > now) return known.client

  const { body, cacheControl } = await fetchMetadataDocument(new URL(clientId), deps.config.outboundAllowedHosts)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MetadataDocumentError('the document is not a JSON object')
  const document = body as Record<string, unknown>
  // The draft §4.1: the document names itself; anything else could be a copy of someone else's.
  if (document.client_id !== clientId) throw new MetadataDocumentError('its client_id is not the URL it was fetched from')
  if (document.client_secret !== undefined || document.client_secret_expires_at !== undefined)
    throw new MetadataDocumentError('it must not contain a client secret')
  const method = document.token_endpoint_auth_method ?? 'none'
  if (method !== 'none') throw new MetadataDocumentError('its token_endpoint_auth_method must be none: such clients have no secret')
  let metadata
  try {
    metadata = await parseClientMetadata(deps.db, { ...document, token_endpoint_auth_method: 'none' })
    const postLogout = parsePostLogoutRedirectUris(document)
    if (postLogout !== undefined) metadata.post_logout_redirect_uris = postLogout
  } catch (err) {
    throw new MetadataDocumentError((err as Error).message)
  }
  return upsertMetadataDocumentClient(
    deps.db.kysely,
    {
      id: clientId,
      name: displayName(metadata),
      redirectUris: metadata.redirect_uris,
      // A document that drops them drops them here too: what it says now is what holds.
      postLogoutRedirectUris: metadata.post_logout_redirect_uris ?? [],
      metadata: JSON.stringify(metadata),
      metadataExpiresAt: now + cacheLifetimeMs(cacheControl),
    },
    now,
  )
}
