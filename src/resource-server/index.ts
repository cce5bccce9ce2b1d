import { createHash } from 'node:crypto'
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { ACR_VALUES } from '../accounts/assurance.js'
import { SIGNING_ALGORITHMS } from '../keys/algorithms.js'
import { tokenKind } from '../protocol/token-kind.js'

/**
 * Checks Gatehouse tokens in another Node.js service: signature and claims
 * against the published JWKS (cached by `kid`, fetched again for a new one),
 * then revocation through introspection, cached briefly so a revoked token
 * is refused within `introspectionCacheMs`.
 */
export interface TokenVerifierOptions {
  /** Gatehouse's public base URL (its GATEHOUSE_ISSUER). */
  issuer: string
  /** A first-party client of Gatehouse: introspection answers first-party clients about any token. */
  clientId: string
  clientSecret: string
  /**
   * What the token's `aud` must contain, one of: the service's own resource
   * URI (RFC 8707, for tokens asked for with `resource`), or client ids (a
   * token asked for without `resource` has its client as audience). Any
   * audience when left out. With an audience, personal access tokens (which
   * are for Gatehouse's own API) are refused.
   */
  audience?: string | string[]
  /** The service's RFC 9728 metadata URL, named in every challenge (see protectedResourceMetadataUrl). */
  resourceMetadataUrl?: string
  /** How long an introspection answer is reused, in ms (default 5000; 0 asks every time). */
  introspectionCacheMs?: number
  /** Allowed clock difference for `exp`/`nbf`, in seconds (default 5). */
  clockToleranceSeconds?: number
}

export interface VerifiedToken {
  kind: 'oauth_access_token' | 'personal_access_token'
  /** The user the token acts as. */
  userId: number
  /** The one team the token is limited to. */
  teamId: number
  /** The OAuth client the token was issued to; null for personal access tokens. */
  clientId: string | null
  /** Empty: all of the user's permissions in the team. */
  scopes: string[]
  /** The token's `aud`: resource URIs, or its client id; empty for personal access tokens. */
  audience: string[]
  /** Epoch seconds. */
  expiresAt: number
  /** How the user signed in for the token (RFC 9068 §2.2.1); undefined for personal access tokens and tokens of the password grant. */
  authentication: { authTime: number; amr: string[]; acr: string } | undefined
}

/**
 * What a route demands of the user's sign-in (RFC 9470): an authentication
 * class (`urn:gatehouse:acr:mfa`: two factors) and how long ago it may have
 * happened, in seconds.
 */
export interface AuthenticationDemand {
  acr?: string
  maxAgeSeconds?: number
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`
}

export interface ChallengeOptions {
  /** RFC 9728 §5.1: where clients find the service's metadata, and through it the authorization server. */
  resourceMetadataUrl?: string
  realm?: string
  /** RFC 6750 §3.1 (RFC 9470 §3 insufficient_user_authentication); left out when the request had no token at all. */
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'insufficient_user_authentication'
  errorDescription?: string
  /** The scope the request needed (with insufficient_scope, RFC 6750 §3). */
  scope?: string
  /** RFC 9470 §3: with insufficient_user_authentication, the class and the age the client must step up to. */
  acrValues?: string
  maxAge?: number
}

/** The `WWW-Authenticate` value for a 401 or 403 (RFC 6750 §3, RFC 9728 §5.1). */
export function bearerChallenge(options: ChallengeOptions = {}): string {
  const params: string[] = []
  if (options.realm !== undefined) params.push(`realm=${quoted(options.realm)}`)
  if (options.resourceMetadataUrl !== undefined) params.push(`resource_metadata=${quoted(options.resourceMetadataUrl)}`)
  if (options.error !== undefined) params.push(`error=${quoted(options.error)}`)
  if (options.errorDescription !== undefined) params.push(`error_description=${quoted(options.errorDescription)}`)
  if (options.scope !== undefined) params.push(`scope=${quoted(options.scope)}`)
  if (options.acrValues !== undefined) params.push(`acr_values=${quoted(options.acrValues)}`)
  if (options.maxAge !== undefined) params.push(`max_age=${quoted(String(options.maxAge))}`)
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`
}

/**
 * RFC 9728 §3.1: the metadata of a resource lives at its origin, with
 * `/.well-known/oauth-protected-resource` put before the resource's path.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '')
  return `${url.origin}/.well-known/oauth-protected-resource${path}`
}

export interface ProtectedResourceMetadataOptions {
  /** The service's resource URI, exactly as registered with `gatehouse resources create --uri`. */
  resource: string
  /** Gatehouse's public base URL (its GATEHOUSE_ISSUER). */
  issuer: string
  scopesSupported?: string[]
  /** Shown to people by clients that show it. */
  resourceName?: string
  resourceDocumentation?: string
}

/** The service's RFC 9728 §2 metadata document, to answer at protectedResourceMetadataUrl(resource). */
export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): Record<string, unknown> {
  return {
    resource: options.resource,
    authorization_servers: [options.issuer.replace(/\/+$/, '')],
    bearer_methods_supported: ['header'],
    ...(options.scopesSupported === undefined ? {} : { scopes_supported: options.scopesSupported }),
    ...(options.resourceName === undefined ? {} : { resource_name: options.resourceName }),
    ...(options.resourceDocumentation === undefined ? {} : { resource_documentation: options.resourceDocumentation }),
  }
}

/** RFC 6750 §3.1's error codes. */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

/**
 * A token that must be refused; `status` and `challenge` are what to answer
 * (RFC 6750 §3): 401 for a missing or bad token, 403 `insufficient_scope`
 * for a good one that lacks what the route needs.
 */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError'
  readonly status: 401 | 403
  constructor(
    readonly error: BearerError,
    message: string,
    readonly resourceMetadataUrl?: string,
    /** With insufficient_scope: every scope the route needs, space-separated, for the client to ask for (RFC 6750 §3). */
    readonly scope?: string,
  ) {
    super(message)
    this.status = error === 'insufficient_scope' ? 403 : 401
  }

  get challenge(): string {
    const { resourceMetadataUrl, error, scope } = this
    return bearerChallenge({ realm: 'gatehouse', resourceMetadataUrl, error, errorDescription: this.message, scope })
  }
}

/**
 * RFC 9470 §3: the token is good, but the user's sign-in behind it is too
 * weak or too old for this route. Answer 401 with `challenge`; the client
 * asks Gatehouse again with these acr_values and max_age.
 */
export class InsufficientUserAuthenticationError extends Error {
  override readonly name = 'InsufficientUserAuthenticationError'
  readonly status = 401
  readonly error = 'insufficient_user_authentication'
  constructor(
    message: string,
    readonly demand: AuthenticationDemand,
    readonly resourceMetadataUrl?: string,
  ) {
    super(message)
  }

  get challenge(): string {
    return bearerChallenge({
      realm: 'gatehouse',
      resourceMetadataUrl: this.resourceMetadataUrl,
      error: this.error,
      errorDescription: this.message,
      acrValues: this.demand.acr,
      maxAge: this.demand.maxAgeSeconds,
    })
  }
}

/** The sign-in behind the token meets the demand, or InsufficientUserAuthenticationError. `nowSeconds` for tests. */
export function requireAuthentication(
  token: VerifiedToken,
  demand: AuthenticationDemand,
  options: { resourceMetadataUrl?: string; nowSeconds?: number } = {},
): void {
  const refuse = (message: string) => new InsufficientUserAuthenticationError(message, demand, options.resourceMetadataUrl)
  const signIn = token.authentication
  if (demand.acr === undefined && demand.maxAgeSeconds === undefined) return
  if (!signIn) throw refuse('the token does not say how the user signed in')
  if (demand.acr !== undefined) {
    const wanted = ACR_VALUES.indexOf(demand.acr as (typeof ACR_VALUES)[number])
    const has = ACR_VALUES.indexOf(signIn.acr as (typeof ACR_VALUES)[number])
    if (wanted === -1) throw new Error(`Unknown acr ${demand.acr}: Gatehouse's are ${ACR_VALUES.join(', ')}`)
    if (has < wanted) throw refuse('a stronger sign-in is required')
  }
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  if (demand.maxAgeSeconds !== undefined && now - signIn.authTime > demand.maxAgeSeconds) throw refuse('a more recent sign-in is required')
}

interface Metadata {
  jwks_uri: string
  introspection_endpoint: string
}

interface Introspection {
  active: boolean
  sub?: string
  team_id?: number
  client_id?: string
  aud?: string | string[]
  scope?: string
  exp?: number
  token_type?: string
  token_kind?: string
  auth_time?: number
  amr?: string[]
  acr?: string
}

/** What a route needs of a token besides being valid. */
export interface RouteRequirements extends AuthenticationDemand {
  /** Every scope the route needs; a token without scopes (all of its user's permissions) has them all. */
  scopes?: string[]
}

export interface TokenVerifier {
  /** Verifies a bare token, and that it has what the route needs: scopes, and the user's sign-in behind it (requireAuthentication). */
  verify(token: string, route?: RouteRequirements): Promise<VerifiedToken>
  /** Verifies the token of an `Authorization: Bearer …` header, and that it has what the route needs. */
  verifyAuthorizationHeader(header: string | undefined, route?: RouteRequirements): Promise<VerifiedToken>
  /**
   * Throws the 403 `insufficient_scope` rejection when a verified token lacks
   * one of `scopes` (RFC 6750 §3.1): for a check that can only be made after
   * the request is read, such as an MCP tool call.
   */
  requireScopes(token: Pick<VerifiedToken, 'scopes'>, scopes: string[]): void
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const issuer = options.issuer.replace(/\/+$/, '')
  const cacheMs = options.introspectionCacheMs ?? 5000
  const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')
  const cache = new Map<string, { until: number; answer: Introspection }>()
  const accepted = options.audience === undefined ? undefined : Array.isArray(options.audience) ? options.audience : [options.audience]
  const reject = (error: 'invalid_request' | 'invalid_token', message: string) => new TokenRejectedError(error, message, options.resourceMetadataUrl)
  let metadata: Promise<{ jwks: JWTVerifyGetKey; introspection: string }> | undefined

  function discover() {
    metadata ??= (async () => {
      const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`)
      if (!response.ok) throw new Error(`Gatehouse metadata unavailable: HTTP ${response.status}`)
      const body = (await response.json()) as Metadata
      // A token signed by a key not yet seen makes the kit fetch the set again, at most once a second,
      // so a key rotation is picked up at once (jose's default waits 30 s).
      const jwks = createRemoteJWKSet(new URL(body.jwks_uri), { cooldownDuration: 1000, cacheMaxAge: 10 * 60 * 1000 })
      return { jwks, introspection: body.introspection_endpoint }
    })().catch((err: unknown) => {
      metadata = undefined
      throw err
    })
    return metadata
  }

  async function introspect(token: string): Promise<Introspection> {
    const key = createHash('sha256').update(token).digest('base64url')
    const now = Date.now()
    const cached = cache.get(key)
    if (cached && cached.until > now) return cached.answer
    const { introspection } = await discover()
    const response = await fetch(introspection, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    })
    if (!response.ok) throw new Error(`Gatehouse introspection failed: HTTP ${response.status}`)
    const answer = (await response.json()) as Introspection
    if (cacheMs > 0) {
      if (cache.size > 10_000) cache.clear()
      cache.set(key, { until: now + cacheMs, answer })
    }
    return answer
  }

  function requireScopes(token: Pick<VerifiedToken, 'scopes'>, scopes: string[]): void {
    if (token.scopes.length === 0) return
    const missing = scopes.filter((s) => !token.scopes.includes(s))
    if (missing.length === 0) return
    // The challenge names all the route needs, not only what is missing: a client asks for that much (RFC 6750 §3).
    const needed = [...new Set(scopes)].join(' ')
    throw new TokenRejectedError('insufficient_scope', `missing scope: ${missing.join(' ')}`, options.resourceMetadataUrl, needed)
  }

  async function verifyToken(token: string): Promise<VerifiedToken> {
    const kind = tokenKind(token)
    // RFC 6749 §1.5: a refresh token is for the token endpoint only and authorises no request.
    if (kind === 'refresh_token') throw reject('invalid_token', 'not an access token')
    if (kind === 'oauth_access_token') {
      const { jwks } = await discover()
      try {
        await jwtVerify(token, jwks, {
          issuer,
          // Any algorithm Gatehouse signs with: after a change of GATEHOUSE_SIGNING_ALG, tokens of both are alive.
          algorithms: [...SIGNING_ALGORITHMS],
          typ: 'at+jwt',
          clockTolerance: options.clockToleranceSeconds ?? 5,
          requiredClaims: ['exp', 'nbf', 'iat', 'jti', 'sub', 'aud'],
          ...(options.audience === undefined ? {} : { audience: options.audience }),
        })
      } catch (err) {
        if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') throw reject('invalid_token', 'token issued for another audience')
        if (err instanceof joseErrors.JOSEError) throw reject('invalid_token', err instanceof joseErrors.JWTExpired ? 'token expired' : 'invalid token')
        throw err
      }
    }
    const answer = await introspect(token)
    if (!answer.active || answer.sub === undefined || answer.team_id === undefined || answer.exp === undefined) {
      throw reject('invalid_token', 'token revoked or unknown')
    }
    // RFC 7662 §2.2: Gatehouse's answer names what the token is; only the access token the request presented passes.
    if (answer.token_type?.toLowerCase() !== 'bearer' || answer.token_kind !== kind) throw reject('invalid_token', 'not an access token')
    // Gatehouse's stored record is the authority on the audience, not only the signed claim.
    if (accepted !== undefined) {
      const audience = answer.aud === undefined ? [] : Array.isArray(answer.aud) ? answer.aud : [answer.aud]
      if (!audience.some((a) => accepted.includes(a))) throw reject('invalid_token', 'token issued for another audience')
    }
    return {
      kind,
      userId: Number(answer.sub),
      teamId: answer.team_id,
      clientId: answer.client_id ?? null,
      scopes: answer.scope ? answer.scope.split(' ') : [],
      audience: answer.aud === undefined ? [] : Array.isArray(answer.aud) ? answer.aud : [answer.aud],
      expiresAt: answer.exp,
      authentication:
        typeof answer.auth_time === 'number' && Array.isArray(answer.amr) && typeof answer.acr === 'string'
          ? { authTime: answer.auth_time, amr: answer.amr, acr: answer.acr }
          : undefined,
    }
  }

  async function verify(token: string, route: RouteRequirements = {}): Promise<VerifiedToken> {
    const verified = await verifyToken(token)
    requireAuthentication(verified, route, { resourceMetadataUrl: options.resourceMetadataUrl })
    if (route.scopes !== undefined) requireScopes(verified, route.scopes)
    return verified
  }

  return {
    verify,
    async verifyAuthorizationHeader(header, route) {
      const match = header === undefined ? null : BEARER.exec(header)
      if (!match) throw reject('invalid_request', 'send Authorization: Bearer <token>')
      return verify(match[1]!, route)
    },
    requireScopes,
  }
}
