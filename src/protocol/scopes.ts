import { InvalidScope } from './errors.js'

/**
 * The scopes a client may ask for. A token without scopes acts with all of
 * its user's permissions in its team; its JWT says `"scopes": []`.
 */
export const SCOPES: Record<string, string> = {
  read: 'Read your account, your team and its activity',
  write: 'Make changes in your team on your behalf',
  // OpenID Connect Core §5.4: identity only; a token with no API scope cannot call the API.
  openid: 'Sign you in with your account',
  profile: 'See your name',
  email: 'See your e-mail address',
}

/** OpenID Connect Core §3.1.2.1: `openid` in the scope makes the request an OpenID Connect request. */
export function isOpenIdRequest(scopes: string[]): boolean {
  return scopes.includes('openid')
}

/**
 * RFC 6749 §3.3: a space-delimited list; unknown scopes are refused, except
 * in OpenID requests. `also` are the scopes the requested resources define (RFC 8707).
 */
export function parseScope(scope: string | undefined, also: string[] = []): string[] {
  if (scope === undefined) return []
  const requested = scope.split(' ').filter((s) => s !== '')
  const isKnown = (s: string) => Object.hasOwn(SCOPES, s) || also.includes(s)
  const known = requested.filter(isKnown)
  // OpenID Connect Core §3.1.2.1: in an OpenID request, scope values not understood are ignored.
  const unknown = isOpenIdRequest(known) ? undefined : requested.find((s) => !isKnown(s))
  if (unknown !== undefined) throw new InvalidScope(`Unknown scope "${unknown}".`)
  return [...new Set(known)].sort()
}

export function formatScopes(scopes: string[]): string {
  return scopes.join(' ')
}

export function splitScopes(stored: string): string[] {
  return stored === '' ? [] : stored.split(' ')
}

export function coversScopes(granted: string[], requested: string[]): boolean {
  return requested.every((s) => granted.includes(s))
}
