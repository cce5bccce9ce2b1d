import { AppError } from '../messages.js'

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname)
}

/**
 * A redirect URL a client may register: https, or http on a loopback address
 * (RFC 8252 §7.3); no fragment (RFC 6749 §3.1.2) and no credentials.
 */
export function validateRedirectUri(value: string): string {
  const uri = value.trim()
  if (uri === '') throw new AppError('redirect_uri_required')
  if (uri.length > 2000) throw new AppError('redirect_uri_invalid')
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new AppError('redirect_uri_invalid')
  }
  if (uri.includes('#')) throw new AppError('redirect_uri_fragment')
  if (url.username !== '' || url.password !== '') throw new AppError('redirect_uri_credentials')
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) throw new AppError('redirect_uri_not_https')
  } else if (url.protocol !== 'https:') {
    throw new AppError('redirect_uri_not_https')
  }
  return uri
}

export function validateRedirectUris(values: string[]): string[] {
  const uris = values.map(validateRedirectUri)
  if (uris.length === 0) throw new AppError('redirect_uri_required')
  if (new Set(uris).size !== uris.length) throw new AppError('redirect_uri_duplicate')
  return uris
}

/**
 * Hosts that show incoming requests to whoever looks (request bins, echo
 * services): codes sent there are readable by strangers (seed 001's warning).
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
 * Does the redirect_uri of a request name one the client registered? Exact
 * string comparison (RFC 9700 §4.1.3); for http loopback URLs the port may
 * differ, since native apps pick a free port at run time (RFC 8252 §7.3).
 */
export function matchRedirectUri(registered: string[], requested: string): string | undefined {
  if (registered.includes(requested)) return requested
  let asked: URL
  try {
    asked = new URL(requested)
  } catch {
    return undefined
  }
  if (asked.protocol !== 'http:' || !isLoopbackHost(asked.hostname)) return undefined
  for (const candidate of registered) {
    const url = new URL(candidate)
    if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) continue
    // Compare the literal strings with the port taken out, so nothing but the port may differ.
    if (withoutPort(candidate, url) === withoutPort(requested, asked)) return requested
  }
  return undefined
}

function withoutPort(raw: string, url: URL): string {
  // Strip the port as written: URL drops a default port (":80") from url.host,
  // which would leave it in the raw string and make port 80 the one port that never matches.
  const prefix = `${url.protocol}//${url.hostname}`
  if (!raw.startsWith(prefix)) return raw
  return prefix + raw.slice(prefix.length).replace(/^:\d+(?=[/?]|$)/, '')
}
