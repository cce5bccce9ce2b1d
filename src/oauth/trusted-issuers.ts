import { requireTeam } from '../accounts/teams.js'
import { ClientKeysError, validateJwksUri } from '../clients/client-keys.js'
import type { Db } from '../db/connection.js'
import { deleteTrustedIssuer, insertTrustedIssuer, type TrustedIssuer } from '../db/trusted-issuers.js'
import { Refusal } from '../messages.js'

function issuerUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Refusal('trusted_issuer_invalid', 400, value)
  }
  if (url.protocol !== 'https:') throw new Refusal('trusted_issuer_invalid', 400, value)
  return value
}

/**
 * Trusts an identity provider's assertions for one team's members. The
 * jwks_uri may name an internal host: the outbound guard decides at
 * connection time, where GATEHOUSE_OUTBOUND_ALLOWED_HOSTS is known.
 */
export async function addTrustedIssuer(db: Db, input: { issuer: string; jwksUri: string; teamId: number }, now: number): Promise<TrustedIssuer> {
  const issuer = issuerUrl(input.issuer)
  let jwksUri: string
  try {
    jwksUri = validateJwksUri(input.jwksUri, true)
  } catch (err) {
    if (err instanceof ClientKeysError) throw new Refusal('trusted_issuer_invalid', 400, input.jwksUri)
    throw err
  }
  const team = await requireTeam(db, input.teamId)
  return insertTrustedIssuer(db.kysely, { issuer, jwksUri, teamId: team.id, createdAt: now })
}

export async function removeTrustedIssuer(db: Db, id: number): Promise<void> {
  if (!(await deleteTrustedIssuer(db.kysely, id))) throw new Refusal('trusted_issuer_not_found', 404)
}
