/** Recognisable to secret scanners, like GitHub's `ghp_` tokens. */
export const PAT_PREFIX = 'gatehouse_pat_'

/** Admin tokens work only on /admin/v1, and no other endpoint takes them for any other kind. */
export const ADMIN_TOKEN_PREFIX = 'gatehouse_admin_'

/** The names introspection answers in `token_kind`, plus the refresh token, which no API accepts. */
export type TokenKind = 'personal_access_token' | 'oauth_access_token' | 'refresh_token'

/**
 * Which kind a presented token is, from its shape alone: personal access
 * tokens carry their prefix, access tokens are JWTs (RFC 9068, three
 * dot-separated parts, RFC 7515 §7.1), and anything else can only be one of
 * our opaque refresh tokens. Whether it is live is for the token's own check.
 */
export function tokenKind(token: string): TokenKind {
  if (token.startsWith(PAT_PREFIX)) return 'personal_access_token'
  if (hasTwoDots(token)) return 'oauth_access_token'
  return 'refresh_token'
}

/** Exactly two dots, found without splitting: every bearer check and introspection asks, of a token a few hundred bytes long. */
function hasTwoDots(token: string): boolean {
  const first = token.indexOf('.')
  if (first < 0) return false
  const second = token.indexOf('.', first + 1)
  return second >= 0 && token.indexOf('.', second + 1) < 0
}
