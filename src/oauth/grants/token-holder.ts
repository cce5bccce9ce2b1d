import type { User } from '../../accounts/types.js'
import type { SigningAlgorithm } from '../../keys/algorithms.js'
import { signIdToken } from '../../oidc/id-token.js'
import type { IdTokenSigner } from '../../tokens/issue.js'
import type { Grant, HolderStanding, OpenIdLogin, RefreshTokenRecord } from '../../tokens/types.js'
import type { GrantDeps } from './deps.js'
import { InvalidGrant } from '../../protocol/errors.js'
import { isOpenIdRequest } from '../../protocol/scopes.js'

/** Why the user behind a grant may no longer hold its tokens. */
export type HolderLapse = 'user disabled' | 'user left the team'

const LAPSE_MESSAGES: Record<HolderLapse, string> = {
  'user disabled': 'The user of this grant is disabled.',
  'user left the team': 'The user is no longer a member of the team of this grant.',
}

/** Tokens act as their user within their team: both must still hold. */
function holderLapse(standing: HolderStanding): HolderLapse | undefined {
  if (standing.userDisabled) return 'user disabled'
  if (!standing.isMember) return 'user left the team'
  return undefined
}

export function assertUserMayHoldTokens(standing: HolderStanding): void {
  const lapse = holderLapse(standing)
  if (lapse) throw new InvalidGrant(LAPSE_MESSAGES[lapse])
}

/** Ended: revoked, expired, or of a revoked grant. Used: already rotated, so presenting it again is a replay. */
export type RefreshTokenLiveness = 'live' | 'used' | 'ended' | HolderLapse

/**
 * Whether a refresh token still works: the one rule for the refresh grant
 * (RFC 6749 §6) and for introspection (RFC 7662 §2.2), so a token the grant
 * would refuse never introspects as active.
 */
export function refreshTokenLiveness(held: { refresh: RefreshTokenRecord; grant: Grant; standing: HolderStanding }, now: number): RefreshTokenLiveness {
  const { refresh, grant, standing } = held
  if (refresh.revokedAt !== null) return 'ended'
  if (refresh.consumedAt !== null) return 'used'
  if (refresh.expiresAt <= now || grant.revokedAt !== null) return 'ended'
  return holderLapse(standing) ?? 'live'
}

/** Who an ID token speaks of: the grant's user, client, team and login. */
export interface OpenIdHolder {
  user: User
  clientId: string
  algorithm: SigningAlgorithm
  teamId: number
  login: OpenIdLogin
}

/**
 * The ID token signer of an OpenID Connect grant (OpenID Connect Core
 * §3.1.3.3); nothing for a plain OAuth grant. `withNonce` is false on
 * refresh (§12.2).
 */
export function idTokenSigner(ctx: GrantDeps, holder: OpenIdHolder, scopes: string[], withNonce = true): IdTokenSigner | undefined {
  if (!isOpenIdRequest(scopes)) return undefined
  return (accessToken, issuedAtSeconds) =>
    signIdToken(ctx.keyRing, ctx.config.issuer, { ...holder, scopes, accessToken, issuedAtSeconds, lifetimeSeconds: ctx.config.idTokenTtlSeconds, withNonce })
}
