export interface Client {
  id: string
  name: string
  redirectUris: string[]
  /** Confidential clients have a secret; public ones (native, single-page apps) use PKCE alone. */
  isConfidential: boolean
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
