import type { RevokedHolders } from '../../db/revocations.js'
import type { AccessTokenClaims } from '../types.js'
import type { Principal } from '../principal.js'

/** How old a remembered standing may be while changes might not reach this process (the feed is down or absent). */
export const STALE_MS = 1000

/** Where a cache learns of changes made by other processes; see revocation-feed.ts. */
export interface ChangeFeed {
  /** True while every change of standing is sure to reach the cache at once. */
  readonly live: boolean
  /** Called before each lookup: a chance to notice, synchronously, that another process wrote. */
  catchUp(): void
}

interface Standing {
  principal: Principal
  /** The token's own expiry, past which it is never answered from memory. */
  expiresAtMs: number
  checkedAt: number
}

/** A checked signature, with the key that checked it: it holds only while that key is published. */
export interface CheckedSignature {
  claims: AccessTokenClaims
  kid: string
}

interface Entry {
  signature?: CheckedSignature
  standing?: Standing
}

/**
 * Bearer tokens this process has already checked: the signature (so a
 * client calling the API with the same token does not pay a signature
 * verification each time) and, for the API, the token's whole standing (its
 * row, its user, the membership), so a call need not ask the database.
 * Standing is forgotten the moment anything that could end it is written:
 * by this process (db/revocations.ts), or by another one, through the feed.
 * While the feed cannot vouch for that, a standing older than STALE_MS is
 * checked again.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>()
  private feed: ChangeFeed | undefined
  /** Bumped by every change: a check that began before one may not be remembered. */
  private generation = 0
  /**
   * A revocation may be announced before its transaction commits; a check in
   * another request during that time still reads the old standing. Such
   * holders are not remembered for STALE_MS.
   */
  private readonly unsettled = new Map<number, number>()
  private unsettledAll = 0

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly limit = 10_000,
  ) {}

  attach(feed: ChangeFeed): void {
    this.feed = feed
  }

  get(token: string): CheckedSignature | undefined {
    return this.entries.get(token)?.signature
  }

  set(token: string, signature: CheckedSignature): void {
    this.entry(token).signature = signature
  }

  /** Forgets all that is known of the token: its key left the key set, so neither signature nor standing holds. */
  drop(token: string): void {
    this.entries.delete(token)
  }

  /** The standing remembered for the token, if it may still be trusted. */
  standing(token: string, now: number): Principal | undefined {
    this.feed?.catchUp()
    const standing = this.entries.get(token)?.standing
    if (!standing) return undefined
    const stale = !this.feed?.live && now - standing.checkedAt > STALE_MS
    if (stale || standing.expiresAtMs <= now) return undefined
    return standing.principal
  }

  /** A mark to hand back to `remember`, taken before the database is asked. */
  mark(): number {
    return this.generation
  }

  remember(token: string, principal: Principal, expiresAtMs: number, mark: number, now: number): void {
    if (mark !== this.generation || now < this.unsettledAll || now < (this.unsettled.get(principal.user.id) ?? 0)) return
    this.entry(token).standing = { principal, expiresAtMs, checkedAt: now }
  }

  /** Forgets the standing of the holders' tokens (signatures stay good); `pending` when the change may not be committed yet. */
  forget(holders: RevokedHolders, pending = false): void {
    this.generation++
    const until = this.clock() + STALE_MS
    if (holders === 'all') {
      if (pending) this.unsettledAll = until
      for (const entry of this.entries.values()) delete entry.standing
      return
    }
    const users = new Set(holders)
    if (pending) for (const user of users) this.unsettled.set(user, until)
    for (const entry of this.entries.values()) if (entry.standing && users.has(entry.standing.principal.user.id)) delete entry.standing
    if (this.unsettled.size > this.limit) this.dropSettled()
  }

  private dropSettled(): void {
    const now = this.clock()
    for (const [user, until] of this.unsettled) if (until <= now) this.unsettled.delete(user)
  }

  private entry(token: string): Entry {
    let entry = this.entries.get(token)
    if (!entry) {
      // Oldest first out: Map keeps insertion order.
      if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!)
      entry = {}
      this.entries.set(token, entry)
    }
    return entry
  }
}
