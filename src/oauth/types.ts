import type { OpenIdLogin } from '../tokens/types.js'

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
  authorisedBy: { userId: number; name: string; email: string }
  authorisedAt: Date
  lastUsedAt: Date | null
}
