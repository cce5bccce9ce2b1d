export interface Client {
  id: string
  name: string
  redirectUris: string[]
  /** Confidential clients have a secret; public ones (native, single-page apps) use PKCE alone. */
  isConfidential: boolean
  /**
   * Whether an approval on file may stand in for the consent page. Only for
   * confidential clients: any program on the user's machine can present a
   * public client's id with its own PKCE challenge and loopback redirect
   * (RFC 8252 §8.6, RFC 9700 §2.1.1), so such clients, and clients that
   * registered themselves, are asked every time.
   */
  mayRememberConsent: boolean
  /** Only first-party clients may use the password grant (seed 004). */
  isFirstParty: boolean
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
