import type { Config } from '../config.js'
import { hashSecret, randomSecret } from '../crypto/random.js'
import type { Executor } from '../db/executor.js'
import { insertTokens, type NewTokens } from '../db/issuance.js'
import { formatScopes } from '../protocol/scopes.js'
import { formatResources } from '../resources/resources.js'
import type { KeyRing } from '../keys/signing-keys.js'
import { acrOf, parseAmr } from '../accounts/assurance.js'
import { newTokenId, signAccessToken } from './access-token.js'
import type { OpenIdLogin, TokenAuthentication } from './types.js'

function authenticationOf(login: TokenSubject['login']): { authentication?: TokenAuthentication } {
  if (login?.authTime === null || login?.authTime === undefined) return {}
  const amr = parseAmr(login.amr)
  return { authentication: { authTimeSeconds: Math.floor(login.authTime / 1000), amr, acr: acrOf(amr) } }
}
import type { Actor } from './types.js'

export interface IssuanceDeps {
  keyRing: KeyRing
  config: Pick<Config, 'issuer' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds'>
  clock: () => number
}

export interface TokenSubject {
  grantId: string
  clientId: string
  userId: number
  teamId: number
  scopes: string[]
  /** RFC 8707: the resources the access token is for (its `aud`); none: the client itself. */
  resources?: string[]
  /** The login the grant came from, for `auth_time`, `amr` and `acr` (RFC 9068 §2.2.1); none for other grants. */
  login?: Pick<OpenIdLogin, 'authTime' | 'amr'>
  /** Shorter than the configured lifetime: an exchanged token ends no later than its subject token. */
  lifetimeSeconds?: number
  /** RFC 8693 §4.1: an exchanged token names who acts for the user. */
  act?: Actor
}

/** RFC 6749 §5.1, in the field order integrators have always received. */
export interface TokenResponse {
  token_type: 'Bearer'
  expires_in: number
  access_token: string
  refresh_token: string
  scope?: string
  /** OpenID Connect Core §3.1.3.3: only when the grant's scope has `openid`. */
  id_token?: string
}

/**
 * Signs the ID token that goes with the access token (OpenID Connect Core
 * §3.1.3.3, its `at_hash` and `iat`); given by an OpenID Connect grant.
 */
export type IdTokenSigner = (accessToken: string, issuedAtSeconds: number) => Promise<string>

export interface MintedTokens {
  response: TokenResponse
  /** The rows that make the tokens valid, to be written together with whatever the tokens replace. */
  rows: NewTokens
  /** Writes the rows; run inside the transaction that writes the grant. */
  persist(trx: Executor): Promise<void>
}

/**
 * Signs an access token and draws a refresh token. Signing happens before any
 * write so the transaction that makes them valid stays short; a token whose
 * rows were never written is refused like any unknown one.
 */
export async function mintTokens(ctx: IssuanceDeps, subject: TokenSubject, signIdToken?: IdTokenSigner): Promise<MintedTokens> {
  const now = ctx.clock()
  const issuedAtSeconds = Math.floor(now / 1000)
  const jti = newTokenId()
  const lifetimeSeconds = Math.min(subject.lifetimeSeconds ?? Infinity, ctx.config.accessTokenTtlSeconds)
  const expiresAtSeconds = issuedAtSeconds + lifetimeSeconds
  const accessToken = await signAccessToken(
    ctx.keyRing,
    ctx.config.issuer,
    {
      jti,
      clientId: subject.clientId,
      userId: subject.userId,
      teamId: subject.teamId,
      scopes: subject.scopes,
      issuedAtSeconds,
      expiresAtSeconds,
      ...authenticationOf(subject.login),
      ...(subject.act && { act: subject.act }),
    },
    subject.resources ?? [],
  )
  const refreshToken = randomSecret(32)
  const response: TokenResponse = {
    token_type: 'Bearer',
    expires_in: lifetimeSeconds,
    access_token: accessToken,
    refresh_token: refreshToken,
  }
  if (subject.scopes.length > 0) response.scope = formatScopes(subject.scopes)
  if (signIdToken) response.id_token = await signIdToken(accessToken, issuedAtSeconds)
  const rows: NewTokens = {
    access: {
      jti,
      grantId: subject.grantId,
      clientId: subject.clientId,
      userId: subject.userId,
      teamId: subject.teamId,
      scopes: formatScopes(subject.scopes),
      resources: formatResources(subject.resources ?? []),
      createdAt: now,
      expiresAt: expiresAtSeconds * 1000,
      act: subject.act ? JSON.stringify(subject.act) : null,
    },
    refresh: {
      tokenHash: hashSecret(refreshToken),
      grantId: subject.grantId,
      accessTokenJti: jti,
      clientId: subject.clientId,
      createdAt: now,
      expiresAt: now + ctx.config.refreshTokenTtlSeconds * 1000,
    },
  }
  return { response, rows, persist: (trx) => insertTokens(trx, rows) }
}
