import { Refusal } from '../messages.js'

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname)
}

/** C0 controls, space, DEL and C1 controls: invisible or rewritten by parsers, and unsafe in a Location header. */
const UNSAFE_CHARACTERS = /[\u0000-\u0020\u007f-\u009f]/

/** After the scheme, an authority must follow: `https:///cb` has none (the parser would take `cb` for the host). */
const HAS_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]/i

/**
 * The one check every way of registering a redirect URL goes through (the
 * portal, `gatehouse clients create`, and any later registration path).
 * A URL is accepted only when it cannot be read two ways: https, or http on a
 * loopback address (RFC 8252 §7.3); no fragment (RFC 6749 §3.1.2); no
 * credentials; no control characters or spaces; a host; and written exactly
 * as the WHATWG URL parser re-serialises it, so the string compared at the
 * authorization endpoint (RFC 9700 §4.1.3) is the address a browser goes to.
 */
export function validateRedirectUri(uri: string): string {
  if (uri.trim() === '') throw new Refusal('redirect_uri_required')
  if (uri.length > 2000) throw new Refusal('redirect_uri_invalid')
  if (UNSAFE_CHARACTERS.test(uri)) throw new Refusal('redirect_uri_unsafe_characters')
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new Refusal('redirect_uri_invalid')
  }
  if (uri.includes('#')) throw new Refusal('redirect_uri_fragment')
  if (url.username !== '' || url.password !== '') throw new Refusal('redirect_uri_credentials')
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) throw new Refusal('redirect_uri_not_https')
  } else if (url.protocol !== 'https:') {
    throw new Refusal('redirect_uri_not_https')
  }
  if (!HAS_AUTHORITY.test(uri)) throw new Refusal('redirect_uri_no_host')
  if (url.href !== uri) throw new Refusal('redirect_uri_not_canonical')
  return uri
}

export function validateRedirectUris(values: string[]): string[] {
  const uris = values.map(validateRedirectUri)
  if (uris.length === 0) throw new Refusal('redirect_uri_required')
  if (new Set(uris).size !== uris.length) throw new Refusal('redirect_uri_duplicate')
  return uris
}

/** Whether a stored URL still passes registration (data stored before the rules were this strict may not). */
export function isRegistrableRedirectUri(uri: string): boolean {
  try {
    validateRedirectUri(uri)
    return true
  } catch (err) {
    if (err instanceof Refusal) return false
    throw err
  }
}

/**
 * Hosts that show incoming requests to whoever looks (request bins, echo
 * services): codes sent there are readable by strangers, so the portal warns about them.
 */
const INSPECTION_HOSTS = [
  'httpbin.org',
  'postman-echo.com',
  'requestbin.com',
  'requestbin.net',
  'requestcatcher.com',
  'webhook.site',
  'pipedream.net',
  'pipedream.com',
  'beeceptor.com',
  'hookbin.com',
  'mockbin.org',
  'mockbin.io',
  'putsreq.com',
  'requestinspector.com',
  'smee.io',
  'ngrok-free.app',
]

export function isRequestInspectionHost(uri: string): boolean {
  let host: string
  try {
    host = new URL(uri).hostname.toLowerCase()
  } catch {
    return false
  }
  return INSPECTION_HOSTS.some((h) => host === h || host.endsWith(`.${h}`))
}

/**
 * The registered URL a request's redirect_uri names, if any. Exact string
 * comparison (RFC 9700 §4.1.3); for http loopback URLs the port may differ,
 * since native apps pick a free port at run time (RFC 8252 §7.3).
 */
function registeredEntryFor(registered: string[], requested: string): string | undefined {
  if (registered.includes(requested)) return requested
  let asked: URL
  try {
    asked = new URL(requested)
  } catch {
    return undefined
  }
  if (asked.protocol !== 'http:' || !isLoopbackHost(asked.hostname)) return undefined
  for (const candidate of registered) {
    let url: URL
    try {
      url = new URL(candidate)
    } catch {
      continue
    }
    if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) continue
    // Compare the literal strings with the port taken out, so nothing but the port may differ.
    if (withoutPort(candidate, url) === withoutPort(requested, asked)) return candidate
  }
  return undefined
}

/** Does the redirect_uri of a request name one the client registered? The URL to send the user back to, if so. */
export function matchRedirectUri(registered: string[], requested: string): string | undefined {
  return registeredEntryFor(registered, requested) === undefined ? undefined : requested
}

/** RFC 6749 §3.1.2.3: a request may leave out redirect_uri only when the client registered exactly one. */
function impliedRedirectUri(registered: string[]): string | undefined {
  return registered.length === 1 ? registered[0] : undefined
}

export type RedirectUriChoice =
  | { uri: string }
  /** missing: none given and not exactly one registered; unregistered: not one of the client's; unusable: a stored URL that no longer passes registration. */
  | { refused: 'missing' | 'unregistered' | 'unusable' }

/**
 * Where the authorization endpoint may send the user back to, for a request
 * that gave `requested` (or nothing). A stored URL that would no longer be
 * accepted at registration is never used: a redirect to it could not be
 * formed safely.
 */
export function chooseRedirectUri(registered: string[], requested: string | undefined): RedirectUriChoice {
  const entry = requested === undefined ? impliedRedirectUri(registered) : registeredEntryFor(registered, requested)
  if (entry === undefined) return { refused: requested === undefined ? 'missing' : 'unregistered' }
  if (!isRegistrableRedirectUri(entry)) return { refused: 'unusable' }
  return { uri: requested ?? entry }
}

/**
 * RFC 6749 §4.1.3: the token request's redirect_uri must be the one the code
 * was issued to; it may be left out only where the authorization request
 * could leave it out too.
 */
export function redirectUriMatchesCode(registered: string[], presented: string | undefined, issuedTo: string): boolean {
  return (presented ?? impliedRedirectUri(registered)) === issuedTo
}

function withoutPort(raw: string, url: URL): string {
  // Strip the port as written: URL drops a default port (":80") from url.host,
  // which would leave it in the raw string and make port 80 the one port that never matches.
  const prefix = `${url.protocol}//${url.hostname}`
  if (!raw.startsWith(prefix)) return raw
  return prefix + raw.slice(prefix.length).replace(/^:\d+(?=[/?]|$)/, '')
}
