import type { AppContext } from '../context.js'
import { findAccessToken, type AccessTokenRow } from '../db/tokens.js'
import { findUserById } from '../db/users.js'
import type { User } from '../accounts/types.js'
import { verifyAccessTokenSignature, type AccessTokenClaims } from './access-token.js'

export type ActiveAccessToken = { active: true; claims: AccessTokenClaims; row: AccessTokenRow; user: User }
export type AccessTokenVerdict = ActiveAccessToken | { active: false; reason: string }

/**
 * The whole check of an OAuth access token: signature and claims, then the
 * database's word, so a revoked token is refused at once although its
 * signature stays valid, and a disabled user's tokens stop working.
 */
export async function checkAccessToken(ctx: AppContext, token: string): Promise<AccessTokenVerdict> {
  const now = ctx.clock()
  const signature = await verifyAccessTokenSignature(ctx.keyRing, ctx.config.issuer, token, { nowSeconds: Math.floor(now / 1000) })
  if (!signature.ok) return { active: false, reason: signature.reason }
  const row = await findAccessToken(ctx.db.kysely, signature.claims.jti)
  if (!row || row.revokedAt !== null) return { active: false, reason: 'token revoked' }
  if (row.expiresAt <= now) return { active: false, reason: 'token expired' }
  const user = await findUserById(ctx.db.kysely, row.userId)
  if (!user || user.isDisabled) return { active: false, reason: 'user disabled' }
  return { active: true, claims: signature.claims, row, user }
}
