import { clientOnFile, clientSecretMatches, type ClientOnFile } from '../clients/clients.js'
import type { Client } from '../clients/types.js'
import type { Keys } from '../crypto/master-key.js'
import type { Config } from '../config.js'
import type { Db } from '../db/connection.js'
import { countAgainst, standingOf } from '../ratelimit/attempts.js'
import { ClientAuthenticationThrottled, InvalidClient, InvalidRequest } from '../protocol/errors.js'
import { clientAuthenticationFailures, rateLimitRefusals } from '../observability/metrics.js'

export interface ClientCredentials {
  /** The Authorization header, if any. */
  authorization: string | undefined
  clientId: string | undefined
  clientSecret: string | undefined
  /** The calling address: failures are counted per client id and address. */
  address: string
}

export interface ClientAuthenticationDeps {
  db: Db
  keys: Keys
  config: Pick<Config, 'clientAuthThrottle'>
  clock: () => number
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
 *
 * Failures are counted per claimed client id and calling address (RFC 6819
 * §5.1.4.2.3, OWASP ASVS V2.2): past the limit, that address is refused for
 * that client until the window ends, right secret or not, while the client's
 * owner elsewhere is not. The count is checked after the secret, so a guess
 * made while refused learns nothing, and is kept in the database, so every
 * process shares it. The client and its count are read together, in one
 * query, before either is judged.
 */
export async function authenticateClient(ctx: ClientAuthenticationDeps, credentials: ClientCredentials): Promise<{ client: Client; method: ClientAuthMethod }> {
  const claimed = claimedClientId(credentials)
  const key = claimed === undefined ? undefined : `client:${claimed}|${credentials.address}`
  const policy = ctx.config.clientAuthThrottle
  const now = ctx.clock()
  const onFile = claimed === undefined || key === undefined ? undefined : await clientOnFile(ctx.db, claimed, key, now)
  let authenticated
  try {
    authenticated = identifyClient(ctx, credentials, onFile)
  } catch (err) {
    if (!(err instanceof InvalidClient)) throw err
    clientAuthenticationFailures.invalid_client.inc()
    if (key === undefined) throw err
    const tally = await countAgainst(ctx.db.kysely, key, policy, now)
    if (tally.over) throw throttled(tally.retryAfter)
    throw err
  }
  if (onFile !== undefined) {
    const current = standingOf(onFile.failures, policy, now)
    if (current.over) throw throttled(current.retryAfter)
  }
  return authenticated
}

function throttled(retryAfter: number): ClientAuthenticationThrottled {
  clientAuthenticationFailures.throttled.inc()
  rateLimitRefusals.client_authentication.inc()
  return new ClientAuthenticationThrottled(retryAfter)
}

function claimedClientId(credentials: ClientCredentials): string | undefined {
  const header = credentials.authorization?.trim()
  const id = header?.toLowerCase().startsWith('basic ') ? parseBasic(header)?.id : credentials.clientId
  return id === undefined || id === '' ? undefined : id
}

/** Judges the credentials against what is on file for the claimed client id. */
function identifyClient(
  ctx: ClientAuthenticationDeps,
  credentials: ClientCredentials,
  onFile: ClientOnFile | undefined,
): { client: Client; method: ClientAuthMethod } {
  const basicHeader = credentials.authorization?.trim().toLowerCase().startsWith('basic ') ? credentials.authorization : undefined
  if (basicHeader !== undefined) {
    if (credentials.clientSecret !== undefined) throw new InvalidRequest('Use one client authentication method, not HTTP Basic and client_secret together.')
    const basic = parseBasic(basicHeader)
    if (!basic) throw new InvalidClient('The Authorization header is not valid HTTP Basic credentials.', true)
    if (credentials.clientId !== undefined && credentials.clientId !== basic.id) {
      throw new InvalidRequest('client_id in the body differs from the one in the Authorization header.')
    }
    const client = clientSecretMatches(ctx.keys, onFile, basic.secret)
    if (!client) throw new InvalidClient('Client authentication failed.', true)
    return { client, method: 'client_secret_basic' }
  }
  if (credentials.clientId === undefined || credentials.clientId === '')
    throw new InvalidClient('Client authentication is required (client_id and client_secret).')
  if (credentials.clientSecret !== undefined) {
    const client = clientSecretMatches(ctx.keys, onFile, credentials.clientSecret)
    if (!client) throw new InvalidClient()
    return { client, method: 'client_secret_post' }
  }
  const client = onFile?.client
  // A confidential client must prove itself; only public clients go by id alone.
  if (!client || client.isConfidential) throw new InvalidClient()
  return { client, method: 'none' }
}
