import type { User } from '../accounts/types.js'
import type { Config } from '../config.js'
import type { Db } from '../db/connection.js'
import type { KeyRing } from '../keys/signing-keys.js'
import { findAccessTokenHolder } from '../db/tokens.js'
import type { AccessTokenClaims, AccessTokenRecord } from './types.js'
import { verifyAccessTokenSignature } from './access-token.js'
import type { VerifiedTokenCache } from './cache/verified-cache.js'

export interface VerificationDeps {
  db: Db
  keyRing: KeyRing
  config: Pick<Config, 'issuer'>
  verifiedTokens?: VerifiedTokenCache
  clock: () => number
}

export type ActiveAccessToken = { active: true; claims: AccessTokenClaims; row: AccessTokenRecord; user: User }
export type AccessTokenVerdict = ActiveAccessToken | { active: false; reason: string }

/**
 * The whole check of an OAuth access token: signature and claims, then the
 * database's word, so a revoked token is refused at once although its
 * signature stays valid, a disabled user's tokens stop working, and a user
 * who left the team no longer acts in it.
 */
export async function checkAccessToken(ctx: VerificationDeps, token: string): Promise<AccessTokenVerdict> {
  const now = ctx.clock()
  const signature = await verifyAccessTokenSignature(ctx.keyRing, ctx.config.issuer, token, { nowSeconds: Math.floor(now / 1000) }, ctx.verifiedTokens)
  if (!signature.ok) return { active: false, reason: signature.reason }
  const holder = await findAccessTokenHolder(ctx.db.kysely, signature.claims.jti)
  if (!holder || holder.token.revokedAt !== null) return { active: false, reason: 'token revoked' }
  if (holder.token.expiresAt <= now) return { active: false, reason: 'token expired' }
  const user = holder.user
  if (user.isDisabled) return { active: false, reason: 'user disabled' }
  if (!holder.isMember) return { active: false, reason: 'user left the team' }
  return { active: true, claims: signature.claims, row: holder.token, user }
}
