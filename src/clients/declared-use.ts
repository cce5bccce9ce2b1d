import { InvalidScope } from '../protocol/errors.js'
import type { Client } from './types.js'

/*
 * RFC 7591 §2: a client that registered itself declared the grant types and
 * the scope it would use. Gatehouse holds it to them; a client a person
 * registered is limited only by its kind (first-party, confidential).
 */

export function mayUseGrant(client: Pick<Client, 'declared'>, grantType: string): boolean {
  return client.declared === undefined || client.declared.grantTypes.includes(grantType)
}

/**
 * The scopes of an authorization request, within what the client declared.
 * No scope asked for means all of the user's permissions (see scopes.ts), so
 * a client that declared a scope gets that instead (RFC 6749 §3.3: a
 * pre-defined default); a scope beyond it is refused.
 */
export function withinDeclaredScope(client: Pick<Client, 'declared'>, requested: string[]): string[] {
  const declared = client.declared?.scopes
  if (declared === undefined) return requested
  if (requested.length === 0) return [...declared].sort()
  const beyond = requested.find((s) => !declared.includes(s))
  if (beyond !== undefined) throw new InvalidScope(`The scope "${beyond}" is not one this application registered for.`)
  return requested
}
