import { findClient, verifyClientSecret } from '../clients/clients.js'
import type { Client } from '../clients/types.js'
import type { Keys } from '../crypto/master-key.js'
import type { Db } from '../db/connection.js'
import { InvalidClient, InvalidRequest } from './errors.js'

export interface ClientCredentials {
  /** The Authorization header, if any. */
  authorization: string | undefined
  clientId: string | undefined
  clientSecret: string | undefined
}

export interface ClientAuthenticationDeps {
  db: Db
  keys: Keys
}

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none'

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
function parseBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=._~-]+)$/i.exec(header.trim())
  if (!match) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  try {
    const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) }
  } catch {
    return undefined
  }
}

/**
 * Works out which client is calling: `client_secret_basic`, `client_secret_post`,
 * or a public client naming itself with `client_id` alone. Using two methods
 * at once is refused (RFC 6749 §2.3).
 */
export async function authenticateClient(ctx: ClientAuthenticationDeps, credentials: ClientCredentials): Promise<{ client: Client; method: ClientAuthMethod }> {
  const basicHeader = credentials.authorization?.trim().toLowerCase().startsWith('basic ') ? credentials.authorization : undefined
  if (basicHeader !== undefined) {
    if (credentials.clientSecret !== undefined) throw new InvalidRequest('Use one client authentication method, not HTTP Basic and client_secret together.')
    const basic = parseBasic(basicHeader)
    if (!basic) throw new InvalidClient('The Authorization header is not valid HTTP Basic credentials.', true)
    if (credentials.clientId !== undefined && credentials.clientId !== basic.id) {
      throw new InvalidRequest('client_id in the body differs from the one in the Authorization header.')
    }
    const client = await verifyClientSecret(ctx.db, ctx.keys, basic.id, basic.secret)
    if (!client) throw new InvalidClient('Client authentication failed.', true)
    return { client, method: 'client_secret_basic' }
  }
  if (credentials.clientId === undefined || credentials.clientId === '')
    throw new InvalidClient('Client authentication is required (client_id and client_secret).')
  if (credentials.clientSecret !== undefined) {
    const client = await verifyClientSecret(ctx.db, ctx.keys, credentials.clientId, credentials.clientSecret)
    if (!client) throw new InvalidClient()
    return { client, method: 'client_secret_post' }
  }
  const client = await findClient(ctx.db, credentials.clientId)
  // A confidential client must prove itself; only public clients go by id alone.
  if (!client || client.isConfidential) throw new InvalidClient()
  return { client, method: 'none' }
}
