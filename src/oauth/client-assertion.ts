import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, type JWSHeaderParameters } from 'jose'
import { ClientKeysError, type ClientKeyCache } from '../clients/client-keys.js'
import type { AssertionMethod, Client, JsonWebKeySet } from '../clients/types.js'
import type { Config } from '../config.js'
import type { Keys } from '../crypto/master-key.js'
import { hashSecret } from '../crypto/random.js'
import { open } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import { recordClientAssertion } from '../db/client-assertions.js'
import { InvalidClient } from '../protocol/errors.js'

/*
 * Client authentication with a signed JWT (RFC 7523 §2.2 and §3, OpenID
 * Connect Core §9): private_key_jwt, signed with a key whose public half the
 * client registered, and client_secret_jwt, an HMAC with its client secret.
 * Every failure is invalid_client, with a description naming the rule.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** What the metadata publishes, and all that is accepted: no `none`, and each method with its own kind of key. */
export const ASSERTION_ALGORITHMS: Record<AssertionMethod, readonly string[]> = {
  private_key_jwt: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
  client_secret_jwt: ['HS256', 'HS384', 'HS512'],
}
export const ASSERTION_SIGNING_ALGORITHMS = [...ASSERTION_ALGORITHMS.private_key_jwt, ...ASSERTION_ALGORITHMS.client_secret_jwt]

/** An assertion is meant for one request: one that lives longer than this is refused. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300
/** Clocks differ a little; times are judged with this much leeway. */
const CLOCK_SKEW_SECONDS = 30
const MAX_JTI_LENGTH = 256

export interface ClientAssertionDeps {
  db: Db
  keys: Keys
  clientKeys: ClientKeyCache
  config: Pick<Config, 'issuer'>
  clock: () => number
}

/** The client an assertion claims to be, read without verifying it: for finding the client and counting failures. */
export function assertionIssuer(assertion: string): string | undefined {
  try {
    const iss = decodeJwt(assertion).iss
    return typeof iss === 'string' && iss !== '' ? iss : undefined
  } catch {
    return undefined
  }
}

/**
 * Verifies `assertion` as the client's proof of itself at `endpoint` (the
 * URL the request was sent to): the signature under the client's registered
 * keys or secret, then the claims, then that its jti is new. Returns the
 * method it used.
 */
export async function verifyClientAssertion(
  deps: ClientAssertionDeps,
  client: Client,
  secret: { encrypted: string } | undefined,
  assertion: string,
  endpoint: string,
): Promise<AssertionMethod> {
  const method = client.tokenEndpointAuthMethod
  if (method === null) throw new InvalidClient('This client did not register for private_key_jwt or client_secret_jwt; authenticate with its client secret.')
  let header: JWSHeaderParameters
  try {
    header = decodeProtectedHeader(assertion)
  } catch {
    throw new InvalidClient('client_assertion is not a signed JWT.')
  }
  const algorithms = ASSERTION_ALGORITHMS[method]
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg))
    throw new InvalidClient(`The assertion's alg must be one of ${algorithms.join(', ')} for ${method}.`)

  const payload = await verifiedPayload(deps, client, secret, assertion, header, algorithms)
  const expiresAt = checkClaims(deps, client, payload, endpoint)
  const jti = payload.jti as string
  if (!(await recordClientAssertion(deps.db.kysely, hashSecret(`${client.id}\n${jti}`), client.id, (expiresAt + CLOCK_SKEW_SECONDS) * 1000)))
    throw new InvalidClient('The assertion was already used: its jti is accepted once.')
  return method
}

async function verifiedPayload(
  deps: ClientAssertionDeps,
  client: Client,
  secret: { encrypted: string } | undefined,
  assertion: string,
  header: JWSHeaderParameters,
  algorithms: readonly string[],
): Promise<Record<string, unknown>> {
  try {
    if (client.tokenEndpointAuthMethod === 'client_secret_jwt') {
      if (!secret) throw new InvalidClient('This client has no client secret to check the assertion with.')
      const key = new TextEncoder().encode(open(deps.keys.encryption, secret.encrypted))
      return parsePayload((await compactVerify(assertion, key, { algorithms: [...algorithms] })).payload)
    }
    const jwks = await registeredKeys(deps, client, header.kid)
    return parsePayload((await compactVerify(assertion, createLocalJWKSet(jwks), { algorithms: [...algorithms] })).payload)
  } catch (err) {
    if (err instanceof InvalidClient) throw err
    if (err instanceof ClientKeysError) throw new InvalidClient(err.message)
    if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
      throw new InvalidClient('No key the client registered matches the assertion (kid, kty, alg).')
    if (err instanceof errors.JWSSignatureVerificationFailed)
      throw new InvalidClient(
        `The assertion's signature does not verify with the client's registered ${client.tokenEndpointAuthMethod === 'client_secret_jwt' ? 'secret' : 'keys'}.`,
      )
    if (err instanceof errors.JOSEError) throw new InvalidClient(`The assertion cannot be verified: ${err.message}`)
    throw err
  }
}

async function registeredKeys(deps: ClientAssertionDeps, client: Client, kid: string | undefined): Promise<JsonWebKeySet> {
  if (client.jwks) return client.jwks
  if (client.jwksUri) return deps.clientKeys.keys(client.jwksUri, kid)
  throw new InvalidClient('This client registered no public keys (jwks or jwks_uri).')
}

function parsePayload(bytes: Uint8Array): Record<string, unknown> {
  let payload: unknown
  try {
    payload = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw new InvalidClient('The assertion is not a JWT: its payload is not JSON.')
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new InvalidClient('The assertion is not a JWT: its payload is not a JSON object.')
  return payload as Record<string, unknown>
}

/** RFC 7523 §3 and OpenID Connect Core §9; returns the assertion's exp, in seconds. */
function checkClaims(deps: ClientAssertionDeps, client: Client, payload: Record<string, unknown>, endpoint: string): number {
  if (payload.iss !== client.id) throw new InvalidClient("The assertion's iss must be the client_id.")
  if (payload.sub !== client.id) throw new InvalidClient("The assertion's sub must be the client_id.")
  const issuer = deps.config.issuer
  const accepted = new Set([issuer, `${issuer}/`, `${issuer}/oauth/token`, endpoint])
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : []
  if (!audiences.some((a) => typeof a === 'string' && accepted.has(a)))
    throw new InvalidClient(`The assertion's aud must be the issuer (${issuer}) or the token endpoint (${issuer}/oauth/token).`)
  const now = Math.floor(deps.clock() / 1000)
  const { exp, iat, nbf, jti } = payload
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidClient('The assertion must have an exp.')
  if (exp <= now - CLOCK_SKEW_SECONDS) throw new InvalidClient('The assertion has expired (exp).')
  if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS)
    throw new InvalidClient(`The assertion's exp is too far ahead: at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds.`)
  if (iat !== undefined && (typeof iat !== 'number' || iat > now + CLOCK_SKEW_SECONDS)) throw new InvalidClient('The assertion was issued in the future (iat).')
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + CLOCK_SKEW_SECONDS)) throw new InvalidClient('The assertion is not valid yet (nbf).')
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw new InvalidClient('The assertion must have a jti.')
  return exp
}
