export interface Client {
  id: string
  name: string
  redirectUris: string[]
  /** Confidential clients have a secret; public ones (native, single-page apps) use PKCE alone. */
  isConfidential: boolean
  /** Only first-party clients may use the password grant (seed 004). */
  isFirstParty: boolean
  /** A first-party client the operator trusts to sign users in without the consent page. */
  skipConsent: boolean
  /** OpenID Connect RP-Initiated Logout §3.1: where the browser may be sent after logging out, exactly as registered. */
  postLogoutRedirectUris: string[]
  /** OpenID Connect Back-Channel Logout §2.2: where the logout token is POSTed when a session ends. */
  backchannelLogoutUri: string | null
  ownerUserId: number
  teamId: number
  createdAt: Date
  updatedAt: Date
}

/** What the database keeps about a client's secret. */
export interface StoredClientSecret {
  hash: string
  encrypted: string
}
