import { createPublicKey } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { Refusal } from '../messages.js'
import { callOut, OutboundFailed, OutboundRefused } from '../outbound/request.js'
import { isInternalHost } from '../outbound/addresses.js'
import { cacheLifetimeMs } from '../outbound/cache-lifetime.js'
import type { JsonWebKeySet } from './types.js'

/*
 * The public keys a private_key_jwt client proves itself with (RFC 7523
 * §2.2, OpenID Connect Core §9): registered as a JWK Set, or fetched from
 * the client's jwks_uri through the outbound guard and kept for a while.
 */

/** Enough for a few keys in rotation; more is refused rather than stored or read. */
const MAX_KEYS = 10
export const MAX_JWKS_BYTES = 16 * 1024
const FETCH_TIMEOUT_MS = 3000
/** A key set is kept at least this long, however short its cache lifetime, so assertions cannot make Gatehouse fetch on every request. */
const MIN_CACHE_MS = 60 * 1000
/** A kid not in the kept set fetches it again (key rotation), at most this often per URL. */
const REFETCH_AFTER_MS = 10 * 1000

const KEY_TYPES = new Set(['RSA', 'EC', 'OKP'])
/** RFC 7518 §6: the members that hold private (or symmetric) key material. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** A JWK Set the client's keys may not be taken from: the message says why. */
export class ClientKeysError extends Error {
  override readonly name = 'ClientKeysError'
}

/**
 * RFC 7517 §5: checks a JWK Set a client registers or serves: public RSA, EC
 * or OKP keys only (a private or symmetric key is refused, it would be a
 * leak), at most a few, each usable for signatures.
 */
export function parseJwks(value: unknown): JsonWebKeySet {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ClientKeysError('jwks must be a JWK Set: an object with "keys".')
  const keys = (value as { keys?: unknown }).keys
  if (!Array.isArray(keys) || keys.length === 0) throw new ClientKeysError('jwks must list at least one key in "keys".')
  if (keys.length > MAX_KEYS) throw new ClientKeysError(`jwks may list at most ${MAX_KEYS} keys.`)
  return { keys: keys.map(checkPublicKey) }
}

function checkPublicKey(key: unknown): Record<string, unknown> {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new ClientKeysError('Each key must be a JWK object.')
  const jwk = key as Record<string, unknown>
  if (typeof jwk.kty !== 'string' || !KEY_TYPES.has(jwk.kty)) throw new ClientKeysError('Each key must be a public RSA, EC or OKP key (kty).')
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw new ClientKeysError('A key holds private key material: register the public key only.')
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new ClientKeysError('Each key must be for signatures (use "sig").')
  try {
    createPublicKey({ key: jwk as JWK & { kty: string }, format: 'jwk' })
  } catch {
    throw new ClientKeysError('A key is not a valid public key.')
  }
  return jwk
}

/**
 * What a person pastes in the portal or gives the command line: a JWK, a JWK
 * Set, or a PEM public key. A key without a kid gets its RFC 7638 thumbprint
 * as one, so the client's assertions can name it.
 */
export async function parsePublicKeys(text: string): Promise<JsonWebKeySet> {
  const trimmed = text.trim()
  if (trimmed === '') throw new ClientKeysError('Paste a public key: a JWK, a JWK Set, or a PEM public key.')
  let set: JsonWebKeySet
  if (trimmed.startsWith('-----BEGIN')) {
    if (/PRIVATE KEY/.test(trimmed)) throw new ClientKeysError('This is a private key: paste the public key only.')
    let jwk
    try {
      jwk = createPublicKey(trimmed).export({ format: 'jwk' }) as Record<string, unknown>
    } catch {
      throw new ClientKeysError('This is not a PEM public key.')
    }
    set = parseJwks({ keys: [jwk] })
  } else {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch {
      throw new ClientKeysError('This is neither JSON (a JWK or JWK Set) nor a PEM public key.')
    }
    const isSet = typeof parsed === 'object' && parsed !== null && 'keys' in parsed
    set = parseJwks(isSet ? parsed : { keys: [parsed] })
  }
  return { keys: await Promise.all(set.keys.map(async (k) => (k.kid === undefined ? { ...k, kid: await calculateJwkThumbprint(k as JWK) } : k))) }
}

/**
 * A jwks_uri Gatehouse will fetch: https on a public host (an operator may
 * name an internal host; it is called only if the outbound allow-list has it).
 */
export function validateJwksUri(value: string, mayBeInternal = false): string {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new ClientKeysError('jwks_uri must be a full https URL.')
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.hash !== '')
    throw new ClientKeysError('jwks_uri must be an https URL without credentials or a fragment.')
  if (!mayBeInternal && isInternalHost(url.hostname)) throw new ClientKeysError('jwks_uri must be on a public host.')
  return url.href
}

/** The portal's and the command line's wording for a refused key or URL. */
export function keysRefusal(err: unknown): never {
  if (err instanceof ClientKeysError) throw new Refusal('client_keys_invalid', 400, err.message)
  throw err
}

interface Kept {
  jwks: JsonWebKeySet
  fetchedAt: number
  expiresAt: number
}

/** Fetches and keeps clients' key sets, per URL, in this process. */
export class ClientKeyCache {
  private readonly kept = new Map<string, Kept>()
  constructor(
    private readonly config: { outboundAllowedHosts: readonly string[] },
    private readonly clock: () => number,
  ) {}

  /**
   * The key set at `uri`: the kept one while it lasts, unless it lacks `kid`
   * (the client rotated its keys) and the last fetch is not too recent.
   */
  async keys(uri: string, kid: string | undefined): Promise<JsonWebKeySet> {
    const now = this.clock()
    const kept = this.kept.get(uri)
    const knowsKid = kid === undefined || kept?.jwks.keys.some((k) => k.kid === kid)
    if (kept && kept.expiresAt > now && (knowsKid || now - kept.fetchedAt < REFETCH_AFTER_MS)) return kept.jwks
    const { jwks, cacheControl } = await fetchJwks(uri, this.config.outboundAllowedHosts)
    // Bounded, so a set of keys dropped by its client does not outlive a day here.
    const lifetime = Math.max(MIN_CACHE_MS, cacheLifetimeMs(cacheControl))
    this.kept.set(uri, { jwks, fetchedAt: now, expiresAt: now + lifetime })
    return jwks
  }
}

async function fetchJwks(uri: string, allowedHosts: readonly string[]): Promise<{ jwks: JsonWebKeySet; cacheControl: string | undefined }> {
  let answer
  try {
    answer = await callOut(uri, {
      method: 'GET',
      headers: { accept: 'application/json' },
      timeoutMs: FETCH_TIMEOUT_MS,
      maxBodyBytes: MAX_JWKS_BYTES,
      allowedHosts,
    })
  } catch (err) {
    if (err instanceof OutboundRefused) throw new ClientKeysError(`The jwks_uri is not fetched: ${err.message}.`)
    if (err instanceof OutboundFailed) throw new ClientKeysError(`The jwks_uri could not be fetched: ${err.message}.`)
    throw err
  }
  if (answer.status !== 200) throw new ClientKeysError(`The jwks_uri answered HTTP ${answer.status}.`)
  let body: unknown
  try {
    body = JSON.parse(answer.body.toString('utf8'))
  } catch {
    throw new ClientKeysError('The jwks_uri did not answer with JSON.')
  }
  return { jwks: parseJwks(body), cacheControl: answer.headers['cache-control'] }
}
