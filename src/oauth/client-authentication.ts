import type { ClientKeyCache } from '../clients/client-keys.js'
import { clientOnFile, clientSecretMatches, type ClientOnFile } from '../clients/clients.js'
import type { Client } from '../clients/types.js'
import type { Keys } from '../crypto/master-key.js'
import type { Config } from '../config.js'
import type { Db } from '../db/connection.js'
import { assertionIssuer, CLIENT_ASSERTION_TYPE, verifyClientAssertion } from './client-assertion.js'
import { countAgainst, standingOf } from '../ratelimit/attempts.js'
import { ClientAuthenticationThrottled, InvalidClient, InvalidRequest } from '../protocol/errors.js'
import { param, type RawParams } from '../protocol/params.js'
import { clientAuthenticationFailures, rateLimitRefusals } from '../observability/metrics.js'

export interface ClientCredentials {
  /** The Authorization header, if any. */
  authorization: string | undefined
  clientId: string | undefined
  clientSecret: string | undefined
  /** RFC 7521 §4.2: `client_assertion_type` and `client_assertion`, for private_key_jwt and client_secret_jwt. */
  clientAssertionType: string | undefined
  clientAssertion: string | undefined
  /** The full URL of the endpoint called: an assertion's aud may name it, as well as the issuer and the token endpoint. */
  endpoint: string
  /** The calling address: failures are counted per client id and address. */
  address: string
}

export interface ClientAuthenticationDeps {
  db: Db
  keys: Keys
  clientKeys: ClientKeyCache
  config: Pick<Config, 'clientAuthThrottle' | 'issuer'>
  clock: () => number
}

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'none'

/** The parameters of a request that carry client credentials, as every endpoint that authenticates clients reads them. */
export function credentialsOf(params: RawParams, request: { authorization: string | undefined; address: string; endpoint: string }): ClientCredentials {
  return {
    authorization: request.authorization,
    clientId: param(params, 'client_id'),
    clientSecret: param(params, 'client_secret'),
    clientAssertionType: param(params, 'client_assertion_type'),
    clientAssertion: param(params, 'client_assertion'),
    endpoint: request.endpoint,
    address: request.address,
  }
}

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
 * `private_key_jwt` or `client_secret_jwt` (RFC 7523 §2.2), or a public
 * client naming itself with `client_id` alone. Using two methods at once is
 * refused (RFC 6749 §2.3), and so is a method other than the one a client
 * registered for. The one function for every endpoint that authenticates clients.
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
    authenticated = await identifyClient(ctx, credentials, onFile)
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
  const assertion = credentials.clientAssertion === undefined ? undefined : assertionIssuer(credentials.clientAssertion)
  const id = header?.toLowerCase().startsWith('basic ') ? parseBasic(header)?.id : (credentials.clientId ?? assertion)
  return id === undefined || id === '' ? undefined : id
}

/** Judges the credentials against what is on file for the claimed client id. */
async function identifyClient(
  ctx: ClientAuthenticationDeps,
  credentials: ClientCredentials,
  onFile: ClientOnFile | undefined,
): Promise<{ client: Client; method: ClientAuthMethod }> {
  if (credentials.clientAssertion !== undefined || credentials.clientAssertionType !== undefined) return assertedClient(ctx, credentials, onFile)
  // A client registered for an assertion method proves itself only that way.
  const registered = onFile?.client.tokenEndpointAuthMethod
  if (registered) throw new InvalidClient(`This client authenticates with ${registered} (client_assertion).`)
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

/** RFC 7521 §4.2 and RFC 7523 §2.2: the client proves itself with a signed JWT, and no other credentials come with it. */
async function assertedClient(
  ctx: ClientAuthenticationDeps,
  credentials: ClientCredentials,
  onFile: ClientOnFile | undefined,
): Promise<{ client: Client; method: ClientAuthMethod }> {
  if (credentials.authorization?.trim().toLowerCase().startsWith('basic ') || credentials.clientSecret !== undefined)
    throw new InvalidRequest('Use one client authentication method, not client_assertion together with a client secret.')
  if (credentials.clientAssertionType !== CLIENT_ASSERTION_TYPE) throw new InvalidClient(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`)
  const assertion = credentials.clientAssertion
  if (assertion === undefined || assertion === '') throw new InvalidClient('client_assertion is required with client_assertion_type.')
  const issuer = assertionIssuer(assertion)
  if (issuer === undefined) throw new InvalidClient("client_assertion is not a JWT with an iss (the client's id).")
  if (credentials.clientId !== undefined && credentials.clientId !== issuer) throw new InvalidClient("client_id differs from the assertion's iss.")
  if (!onFile) throw new InvalidClient("No client has the assertion's iss as its client_id.")
  const method = await verifyClientAssertion(ctx, onFile.client, onFile.secret, assertion, credentials.endpoint)
  return { client: onFile.client, method }
}
