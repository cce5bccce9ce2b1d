import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose'
import type { ClientKeyCache } from '../../clients/client-keys.js'
import type { Client } from '../../clients/types.js'
import { hashSecret } from '../../crypto/random.js'
import { recordClientAssertion } from '../../db/client-assertions.js'
import { findMembership } from '../../db/teams.js'
import { findTrustedIssuers, type TrustedIssuer } from '../../db/trusted-issuers.js'
import { findUserByEmail } from '../../db/users.js'
import { InvalidGrant, InvalidTarget } from '../../protocol/errors.js'
import { requiredParam, type RawParams } from '../../protocol/params.js'
import { isOpenIdRequest, parseScope } from '../../protocol/scopes.js'
import { resolveResources } from '../../resources/resources.js'
import { ASSERTION_ALGORITHMS, MAX_ASSERTION_LIFETIME_SECONDS } from '../client-assertion.js'
import { grantAccessToken, type AccessTokenResponse } from './access-token-grant.js'
import type { GrantDeps } from './deps.js'

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** The identity assertion authorization grant's JWT type: an identity provider's word on who the user is, for one client. */
export const ID_JAG_TYPE = 'oauth-id-jag+jwt'
const CLOCK_SKEW_SECONDS = 30

function decoded(assertion: string): { kid: string | undefined; typ: unknown; iss: unknown } {
  try {
    const header = decodeProtectedHeader(assertion)
    return { kid: header.kid, typ: header.typ, iss: decodeJwt(assertion).iss }
  } catch {
    throw new InvalidGrant('The assertion is not a signed JWT.')
  }
}

async function verified(
  ctx: GrantDeps & { clientKeys: ClientKeyCache },
  assertion: string,
  trusted: TrustedIssuer,
  kid: string | undefined,
): Promise<JWTPayload> {
  let jwks
  try {
    jwks = await ctx.clientKeys.keys(trusted.jwksUri, kid)
  } catch (err) {
    throw new InvalidGrant(`The trusted issuer's keys could not be read: ${(err as Error).message}`)
  }
  try {
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(jwks), {
      algorithms: [...ASSERTION_ALGORITHMS.private_key_jwt],
      issuer: trusted.issuer,
      audience: ctx.config.issuer,
      typ: ID_JAG_TYPE,
      currentDate: new Date(ctx.clock()),
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
    })
    return payload
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new InvalidGrant('The assertion has expired (exp).')
    if (err instanceof errors.JWTClaimValidationFailed) throw new InvalidGrant(`The assertion's ${err.claim} is not accepted: ${err.message}`)
    if (err instanceof errors.JOSEError) throw new InvalidGrant(`The assertion's signature does not verify with the trusted issuer's keys: ${err.message}`)
    throw err
  }
}

function checkTimes(ctx: GrantDeps, payload: JWTPayload): number {
  const now = Math.floor(ctx.clock() / 1000)
  const { exp, iat } = payload as { exp: number; iat: number }
  if (iat > now + CLOCK_SKEW_SECONDS) throw new InvalidGrant('The assertion was issued in the future (iat).')
  if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS)
    throw new InvalidGrant(`The assertion's exp is too far ahead: at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds.`)
  return exp
}

/** The user the assertion names: a verified, enabled member, by e-mail, of a team that trusts the issuer. */
async function assertedMember(ctx: GrantDeps, payload: JWTPayload, teams: TrustedIssuer[]): Promise<{ userId: number; teamId: number }> {
  const email = payload.email
  if (typeof email !== 'string' || email === '') throw new InvalidGrant('The assertion must name the user by email.')
  const user = await findUserByEmail(ctx.db.kysely, email)
  if (user && user.isVerified && !user.isDisabled && !user.isServiceAccount) {
    for (const trusted of teams) if (await findMembership(ctx.db.kysely, trusted.teamId, user.id)) return { userId: user.id, teamId: trusted.teamId }
  }
  throw new InvalidGrant("No verified member of the issuer's team has the assertion's email.")
}

function resourcesOf(payload: JWTPayload): string[] {
  const { resource } = payload
  if (resource === undefined) return []
  const list = Array.isArray(resource) ? resource : [resource]
  if (!list.every((r): r is string => typeof r === 'string')) throw new InvalidGrant("The assertion's resource must be a URI or a list of them.")
  return list
}

/**
 * RFC 7523 §2.1 with an identity assertion (ID-JAG): an identity provider an
 * operator trusts for a team says who the user is and which client acts for
 * them; the client named in it gets an access token for that user in that
 * team, bound to the assertion's resource. Each assertion works once.
 */
export async function jwtBearerGrant(
  ctx: GrantDeps & { clientKeys: ClientKeyCache },
  client: Client,
  params: RawParams,
  address: string,
): Promise<AccessTokenResponse> {
  const assertion = requiredParam(params, 'assertion')
  const { kid, typ, iss } = decoded(assertion)
  if (typ !== ID_JAG_TYPE) throw new InvalidGrant(`The assertion's typ must be ${ID_JAG_TYPE}.`)
  const teams = typeof iss === 'string' ? await findTrustedIssuers(ctx.db.kysely, iss) : []
  if (teams.length === 0) throw new InvalidGrant("The assertion's issuer is not trusted.")
  const payload = await verified(ctx, assertion, teams[0]!, kid)
  const exp = checkTimes(ctx, payload)
  if (payload.client_id !== client.id) throw new InvalidGrant("The assertion's client_id is not the authenticated client.")
  if (!(await recordClientAssertion(ctx.db.kysely, hashSecret(`id-jag\n${iss as string}\n${payload.jti!}`), client.id, (exp + CLOCK_SKEW_SECONDS) * 1000)))
    throw new InvalidGrant('The assertion was already used: its jti is accepted once.')
  const { userId, teamId } = await assertedMember(ctx, payload, teams)
  let resources
  try {
    resources = await resolveResources(ctx.db, ctx.config.issuer, resourcesOf(payload))
  } catch (err) {
    if (!(err instanceof InvalidTarget)) throw err
    throw new InvalidGrant(`The assertion's resource is not accepted: ${(err as Error).message}`)
  }
  const scopes = parseScope(
    typeof payload.scope === 'string' ? payload.scope : undefined,
    resources.flatMap((r) => r.scopes),
  )
  if (isOpenIdRequest(scopes)) throw new InvalidGrant('The openid scope is not granted from an assertion.')
  const response = await grantAccessToken(ctx, { clientId: client.id, userId, teamId, scopes, audience: resources.map((r) => r.uri) })
  ctx.activity.record({ action: 'token.issued', teamId, userId, clientId: client.id, detail: `jwt-bearer grant, asserted by ${iss as string}`, address })
  return response
}
