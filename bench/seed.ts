import { randomUUID } from 'node:crypto'
import { createUser } from '../src/accounts/users.js'
import { registerClient } from '../src/clients/clients.js'
import type { AppContext } from '../src/context.js'
import { hashSecret, randomSecret } from '../src/crypto/random.js'
import { upsertConsent } from '../src/db/consents.js'
import { insertGrant } from '../src/db/tokens.js'
import { startSession } from '../src/accounts/sessions.js'
import { findUserById } from '../src/db/users.js'
import { mintTokens } from '../src/tokens/issue.js'
import { fillIssuances, insertRows, tokenStorageBytes } from './bulk.js'

export const REDIRECT_URI = 'https://bench.example/cb'

export interface BenchAccount {
  userId: number
  teamId: number
  clientId: string
  clientSecret: string
}

/** A user, a team and a confidential client, as an integrator would have them. */
export async function seedAccount(ctx: AppContext): Promise<BenchAccount> {
  const { user, team } = await createUser(ctx.db, { email: 'bench@example.com', name: 'Bench', password: 'bench password', teamName: 'Bench' }, Date.now())
  const { client, secret } = await registerClient(
    ctx.db,
    ctx.keys,
    { name: 'Bench', redirectUris: [REDIRECT_URI], ownerUserId: user.id, teamId: team!.id, isFirstParty: true },
    Date.now(),
  )
  return { userId: user.id, teamId: team!.id, clientId: client.id, clientSecret: secret! }
}

/** A service client of the account's team: its client_credentials tokens act as its service account. */
export async function seedServiceClient(ctx: AppContext, account: BenchAccount): Promise<{ clientId: string; clientSecret: string }> {
  const { client, secret } = await registerClient(
    ctx.db,
    ctx.keys,
    { name: 'Bench sync job', redirectUris: [], ownerUserId: account.userId, teamId: account.teamId, isService: true },
    Date.now(),
  )
  return { clientId: client.id, clientSecret: secret! }
}

/** A live access token and refresh token, issued the way the token endpoint issues them. */
export async function seedTokens(ctx: AppContext, account: BenchAccount): Promise<{ accessToken: string; refreshToken: string }> {
  const grantId = randomUUID()
  const minted = await mintTokens(ctx, { grantId, clientId: account.clientId, userId: account.userId, teamId: account.teamId, scopes: [] })
  await ctx.db.kysely.transaction().execute(async (trx) => {
    await insertGrant(trx, { id: grantId, clientId: account.clientId, userId: account.userId, teamId: account.teamId, scopes: '', createdAt: Date.now() })
    await minted.persist(trx)
  })
  return { accessToken: minted.response.access_token, refreshToken: minted.response.refresh_token }
}

/** Unredeemed authorization codes, as approval would leave them. */
export async function seedCodes(ctx: AppContext, account: BenchAccount, count: number): Promise<string[]> {
  const now = Date.now()
  const codes = Array.from({ length: count }, () => randomSecret(32))
  await insertRows(
    ctx.db.kysely,
    'authorization_codes',
    codes.map((code) => ({
      code_hash: hashSecret(code),
      client_id: account.clientId,
      user_id: account.userId,
      team_id: account.teamId,
      redirect_uri: REDIRECT_URI,
      scopes: '',
      code_challenge: null,
      grant_id: randomUUID(),
      created_at: now,
      expires_at: now + 3_600_000,
      consumed_at: null,
    })),
  )
  return codes
}

/**
 * Stored tokens as issuance leaves them: one grant, one access token and one
 * refresh token each. Returns the refresh token values.
 */
export async function seedIssuances(ctx: AppContext, account: BenchAccount, count: number): Promise<string[]> {
  const now = Date.now()
  const refreshTokens: string[] = []
  const batch = 5_000
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start)
    const grants = Array.from({ length: size }, () => randomUUID())
    const jtis = Array.from({ length: size }, () => randomSecret(24))
    const tokens = Array.from({ length: size }, () => randomSecret(32))
    refreshTokens.push(...tokens)
    const base = { client_id: account.clientId, created_at: now }
    await insertRows(
      ctx.db.kysely,
      'grants',
      grants.map((id) => ({ ...base, id, user_id: account.userId, team_id: account.teamId, scopes: '', revoked_at: null })),
    )
    await insertRows(
      ctx.db.kysely,
      'access_tokens',
      jtis.map((jti, i) => ({
        ...base,
        jti,
        grant_id: grants[i]!,
        user_id: account.userId,
        team_id: account.teamId,
        scopes: '',
        expires_at: now + 31_536_000_000,
        revoked_at: null,
      })),
    )
    await insertRows(
      ctx.db.kysely,
      'refresh_tokens',
      tokens.map((token, i) => ({
        ...base,
        token_hash: hashSecret(token),
        grant_id: grants[i]!,
        access_token_jti: jtis[i]!,
        expires_at: now + 63_072_000_000,
        consumed_at: null,
        revoked_at: null,
      })),
    )
  }
  return refreshTokens
}

/**
 * What a returning user brings to /oauth/authorize: a logged-in portal
 * session, and an earlier approval of a third-party confidential client in
 * the active team, so the answer is a redirect with a new code.
 */
export async function seedAuthorizeSession(ctx: AppContext, account: BenchAccount): Promise<{ cookie: string; query: string }> {
  const now = Date.now()
  const { client } = await registerClient(
    ctx.db,
    ctx.keys,
    { name: 'Bench partner', redirectUris: [REDIRECT_URI], ownerUserId: account.userId, teamId: account.teamId, isConfidential: true, isFirstParty: false },
    now,
  )
  // No scopes approved means all of the user's permissions: it covers every request.
  await upsertConsent(ctx.db.kysely, account.userId, client.id, account.teamId, { scopes: '', resources: '', implied: false }, now)
  const user = await findUserById(ctx.db.kysely, account.userId)
  const session = await startSession(ctx.db, user!, now)
  const query = new URLSearchParams({ response_type: 'code', client_id: client.id, redirect_uri: REDIRECT_URI, state: 'bench-state' }).toString()
  return { cookie: `gatehouse_session=${session.id}`, query }
}

/** Tokens that only fill the tables, for growth measurements. */
export function fillStoredTokens(ctx: AppContext, account: BenchAccount, count: number): Promise<void> {
  return fillIssuances(ctx.db.kysely, ctx.db.dialect, account, count, Date.now())
}

export function storageBytes(ctx: AppContext): Promise<number> {
  return tokenStorageBytes(ctx.db.kysely, ctx.db.dialect)
}
