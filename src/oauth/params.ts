import { InvalidRequest } from './errors.js'

/** Request parameters as the HTTP layer parsed them: strings, or arrays when repeated. */
export type RawParams = Record<string, unknown>

/**
 * One parameter's value. RFC 6749 §3.1/§3.2: parameters must not repeat.
 * JSON bodies (seed 004) may carry numbers, e.g. a numeric client_id.
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
