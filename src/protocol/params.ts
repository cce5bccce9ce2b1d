import { InvalidRequest } from './errors.js'

/** Request parameters as the HTTP layer parsed them: strings, or arrays when repeated. */
export type RawParams = Record<string, unknown>

/**
 * One parameter's value. RFC 6749 §3.1/§3.2: parameters must not repeat.
 * JSON bodies (accepted at the token endpoint) may carry numbers, e.g. a numeric client_id.
 */
export function param(params: RawParams, name: string): string | undefined {
  const value = params[name]
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (Array.isArray(value)) throw new InvalidRequest(`The ${name} parameter must not be repeated.`)
  throw new InvalidRequest(`The ${name} parameter must be a string.`)
}

export function requiredParam(params: RawParams, name: string): string {
  const value = param(params, name)
  if (value === undefined || value === '') throw new InvalidRequest(`The ${name} parameter is required.`)
  return value
}

/** A parameter that may be given several times (RFC 8707 §2: `resource`); every value a string. */
export function repeatedParam(params: RawParams, name: string): string[] {
  const value = params[name]
  if (value === undefined || value === null) return []
  const values = Array.isArray(value) ? value : [value]
  if (!values.every((v): v is string => typeof v === 'string')) throw new InvalidRequest(`Each ${name} parameter must be a string.`)
  return values
}

/**
 * Parameters that are secrets, or prove a grant, and so must never be part
 * of a URI, where access logs, proxies and Referer headers keep them.
 */
const CREDENTIALS = [
  'client_secret',
  'code',
  'code_verifier',
  'refresh_token',
  'password',
  'token',
  'client_assertion',
  'subject_token',
  'actor_token',
  'assertion',
  'device_code',
]

/** RFC 6749 §2.3.1 and §3.2: credentials sent in the query string are refused, never silently ignored. */
export function refuseCredentialsInQuery(query: RawParams): void {
  const found = CREDENTIALS.filter((name) => query[name] !== undefined)
  if (found.length > 0) throw new InvalidRequest(`Send ${found.join(', ')} in the request body, never in the query string (RFC 6749 §3.2).`)
}
