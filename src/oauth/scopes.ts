import { InvalidScope } from './errors.js'

/**
 * The scopes a client may ask for. A token without scopes acts with all of
 * its user's permissions in its team, as the seeds' tokens (`"scopes": []`) do.
 */
export const SCOPES: Record<string, string> = {
  read: 'Read your account, your team and its activity',
  write: 'Make changes in your team on your behalf',
}

/**
 * RFC 6749 §3.3: a space-delimited list; unknown scopes are refused. `also`
 * are the scopes the requested resources define (RFC 8707).
 */
export function parseScope(scope: string | undefined, also: string[] = []): string[] {
  if (scope === undefined) return []
  const requested = scope.split(' ').filter((s) => s !== '')
  for (const s of requested) {
    if (!Object.hasOwn(SCOPES, s) && !also.includes(s)) throw new InvalidScope(`Unknown scope "${s}".`)
  }
  return [...new Set(requested)].sort()
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
