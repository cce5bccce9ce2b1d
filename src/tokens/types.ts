/**
 * What a grant, and each access token of it, may do, as stored: the stored
 * row is the authority, whatever a JWT claims.
 */
interface StoredAuthority {
  clientId: string
  userId: number
  teamId: number
  /** Space-separated scopes; empty: all of the user's permissions in the team. */
  scopes: string
  /** RFC 8707 resources, space-separated (a token's audience); empty: the client itself. */
  resources: string
}

/**
 * One authorization of a client by a user for a team: the family every
 * token descending from it belongs to, revoked together.
 */
export interface Grant extends StoredAuthority {
  id: string
  createdAt: number
  revokedAt: number | null
  login: OpenIdLogin
  /** RFC 8693: the grant of the subject token this one was exchanged from; null for grants of their own. */
  parentGrantId: string | null
}

/** OpenID Connect: the login an ID token speaks of. Null outside OpenID requests. */
export interface OpenIdLogin {
  nonce: string | null
  /** The public id of the session the user signed in with. */
  sid: string | null
  /** When the user entered their password, epoch ms. */
  authTime: number | null
  /** RFC 8176 methods of that login, space-separated; null: the password alone. */
  amr: string | null
}

export const NO_OPENID_LOGIN: OpenIdLogin = { nonce: null, sid: null, authTime: null, amr: null }

/** What a signed access token says (RFC 9068 §2.2); its times in epoch seconds, as in the JWT (RFC 7519 §2 NumericDate). */
/** RFC 8693 §4.1: who acts for the token's subject; `act` inside names the actor before it, in a chain of exchanges. */
export interface Actor {
  sub: string
  act?: Actor
}

export interface AccessTokenClaims {
  jti: string
  clientId: string
  userId: number
  teamId: number
  scopes: string[]
  issuedAtSeconds: number
  expiresAtSeconds: number
  /** RFC 9068 §2.2.1: the user's login, for tokens a user signed in for in the browser. */
  authentication?: TokenAuthentication
  /** Only on exchanged tokens. */
  act?: Actor
}

/** How the user signed in for a token: `auth_time`, `amr` and `acr` (RFC 9068 §2.2.1). */
export interface TokenAuthentication {
  authTimeSeconds: number
  amr: string[]
  acr: string
}

/** A stored access token; its times in epoch milliseconds, like every time in the database. */
export interface AccessTokenRecord extends StoredAuthority {
  jti: string
  grantId: string
  createdAt: number
  expiresAt: number
  revokedAt: number | null
  /** RFC 8693 §4.1: the `act` claim of an exchanged token, as JSON; null for tokens issued to their client directly. */
  act: string | null
}

export interface RefreshTokenRecord {
  tokenHash: string
  grantId: string
  /** The access token issued together with this refresh token; it ends when this is used. */
  accessTokenJti: string
  clientId: string
  createdAt: number
  expiresAt: number
  consumedAt: number | null
  revokedAt: number | null
}

/** Whether the user behind a grant may still hold tokens: enabled, and still in the grant's team. */
export interface HolderStanding {
  userDisabled: boolean
  isMember: boolean
}

/**
 * What a revocation ends: an app's access in a team (or one user's
 * authorisation of it), or what a user holds (in one team, or anywhere).
 * Never empty, so no revocation can reach every grant by mistake.
 */
export type HoldingsOf = { clientId: string; teamId: number; userId?: number } | { userId: number; teamId?: number }

/** One grant and its tokens (a replay or a client's revocation), or every grant of some holdings. */
export type GrantSelection = { grantId: string } | HoldingsOf

/** A code issued by the authorization endpoint, bound to everything the tokens it becomes will carry. */
export interface AuthorizationCode {
  codeHash: string
  clientId: string
  userId: number
  teamId: number
  redirectUri: string
  scopes: string
  codeChallenge: string | null
  /** RFC 8707 resources the code was granted for, space-separated. */
  resources: string
  /** The grant the code becomes when redeemed; known in advance so a replay can revoke it. */
  grantId: string
  createdAt: number
  expiresAt: number
  consumedAt: number | null
  login: OpenIdLogin
}

/** An app a user of the team authorised (listed on the portal's Team apps page). */
export interface TeamApp {
  clientId: string
  name: string
  /** Registered itself (RFC 7591) or known by a metadata document: nobody vouched for it. */
  selfRegistered: boolean
  /** A service client: its service account, a bot, authorised it by asking for a token. */
  service: boolean
  authorisedBy: { userId: number; name: string; email: string }
  authorisedAt: Date
  /**
   * When the app last got a token (a code exchanged, a token refreshed) or
   * called the API for this user in the team: an OpenID Connect or MCP app
   * may never call the API, yet it is used each time it gets a token.
   */
  lastUsedAt: Date | null
  /** What the user granted: scopes, and RFC 8707 resource URIs (none: the token's audience is the app). */
  scopes: string[]
  resources: string[]
}
