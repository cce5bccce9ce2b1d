import type { User } from '../accounts/types.js'

/** OpenID Connect Core §5.4: the claims each scope releases. */
export const SCOPE_CLAIMS: Record<string, string[]> = {
  profile: ['name', 'updated_at'],
  email: ['email', 'email_verified'],
}

/** Every claim an ID token or the userinfo endpoint may carry (Discovery `claims_supported`). */
export const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'at_hash',
  'sid',
  'amr',
  'acr',
  'team_id',
  ...Object.values(SCOPE_CLAIMS).flat(),
]

/**
 * The user's claims for the scopes, the same in the ID token and at
 * userinfo: `sub` (the user id as a string: stable, unique, never reused),
 * the team the tokens act in, and what `profile` and `email` release.
 */
export function userClaims(user: User, teamId: number, scopes: string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: String(user.id), team_id: teamId }
  if (scopes.includes('profile')) {
    claims.name = user.name
    claims.updated_at = Math.floor(user.updatedAt.getTime() / 1000)
  }
  if (scopes.includes('email')) {
    claims.email = user.email
    claims.email_verified = user.isVerified
  }
  return claims
}
