import type { AccessTokenClaims } from './access-token.js'

/**
 * Access tokens whose signature this process has already checked, so a
 * client calling the API with the same token does not pay an RSA
 * verification each time. Only the signature is remembered: expiry is
 * checked on every use, and revocation is always the database's word.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, AccessTokenClaims>()

  constructor(private readonly limit = 10_000) {}

  get(token: string): AccessTokenClaims | undefined {
    return this.entries.get(token)
  }

  set(token: string, claims: AccessTokenClaims): void {
    // Oldest first out: Map keeps insertion order.
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(token, claims)
  }
}
