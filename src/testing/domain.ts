/**
 * The domain's dependencies on a real database without a server, for unit
 * tests of the grants and the bearer check: `sqlite::memory:` unless told
 * otherwise, migrated, with real signing keys and a real activity log.
 */
import { randomUUID } from 'node:crypto'
import { BufferedActivityLog } from '../activity/recorder.js'
import { ClientKeyCache } from '../clients/client-keys.js'
import { DEFAULT_CLIENT_AUTH_THROTTLE, DEFAULT_LOGIN_THROTTLE } from '../config.js'
import { deriveKeys, type Keys } from '../crypto/master-key.js'
import { hashSecret, randomSecret } from '../crypto/random.js'
import { insertAuthorizationCode } from '../db/authorization-codes.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { KeyRing, signedTokenLifetimeMs } from '../keys/signing-keys.js'
import { authorizationCodeGrant } from '../oauth/grants/authorization-code.js'
import type { GrantDeps } from '../oauth/grants/deps.js'
import type { TokenEndpointDeps } from '../oauth/token-endpoint.js'
import type { VerificationDeps } from '../tokens/verify.js'
import { REDIRECT, seedClient, seedUser, type SeedClientOptions, type SeededClient, type SeededUser } from './fixtures.js'

export type TestDomain = TokenEndpointDeps &
  GrantDeps &
  VerificationDeps & {
    db: Db
    keys: Keys
    activity: BufferedActivityLog
    /** Moves the domain's clock. */
    advance(ms: number): void
    close(): Promise<void>
  }

export async function openTestDomain(url = 'sqlite::memory:'): Promise<TestDomain> {
  const db = await openDatabase(url)
  await migrateToLatest(db)
  let offset = 0
  const clock = () => Date.now() + offset
  const keys = deriveKeys(randomSecret(32))
  const config = {
    issuer: 'https://gatehouse.test',
    accessTokenTtlSeconds: 3600,
    refreshTokenTtlSeconds: 86_400,
    idTokenTtlSeconds: 3600,
    loginThrottle: DEFAULT_LOGIN_THROTTLE,
    clientAuthThrottle: DEFAULT_CLIENT_AUTH_THROTTLE,
  }
  const keyRing = new KeyRing(db, keys.encryption, 'RS256', signedTokenLifetimeMs(config), clock)
  await keyRing.init()
  const activity = new BufferedActivityLog(db, clock, (err) => {
    throw err
  })
  return {
    db,
    keys,
    keyRing,
    config,
    activity,
    clientKeys: new ClientKeyCache({ outboundAllowedHosts: [] }, clock),
    clock,
    advance(ms) {
      offset += ms
    },
    async close() {
      await activity.close()
      await db.close()
    },
  }
}

/**
 * A fresh domain with Ada, owner of the team Engines, and a client she
 * registered there (confidential and third-party unless told otherwise).
 */
export async function openDomainWithApp(app: SeedClientOptions = {}): Promise<{ domain: TestDomain; ada: SeededUser; app: SeededClient }> {
  const domain = await openTestDomain()
  const ada = await seedUser(domain.db, 'ada@example.com', { team: 'Engines' })
  return { domain, ada, app: await seedClient(domain, ada, app) }
}

/** A code as the authorization endpoint issues it once the user approved; returns the code's value. */
export async function issueCode(
  domain: TestDomain,
  code: { clientId: string; userId: number; teamId: number; redirectUri: string; scopes?: string; codeChallenge?: string },
): Promise<string> {
  const value = randomSecret(32)
  const now = domain.clock()
  await insertAuthorizationCode(domain.db.kysely, {
    codeHash: hashSecret(value),
    clientId: code.clientId,
    userId: code.userId,
    teamId: code.teamId,
    redirectUri: code.redirectUri,
    scopes: code.scopes ?? '',
    codeChallenge: code.codeChallenge ?? null,
    grantId: randomUUID(),
    createdAt: now,
    expiresAt: now + 10 * 60 * 1000,
  })
  return value
}

/** A code the user approved for the client, in the user's team, to be sent back to REDIRECT. */
export function issueCodeFor(
  domain: TestDomain,
  holder: SeededUser,
  client: SeededClient,
  code: { scopes?: string; codeChallenge?: string } = {},
): Promise<string> {
  return issueCode(domain, { clientId: client.id, userId: holder.user.id, teamId: holder.team!.id, redirectUri: REDIRECT, ...code })
}

/** The tokens the client gets for the user by redeeming a code approved with these scopes (RFC 6749 §4.1.3). */
export async function tokensFor(domain: TestDomain, holder: SeededUser, client: SeededClient, scopes = ''): ReturnType<typeof authorizationCodeGrant> {
  const code = await issueCodeFor(domain, holder, client, { scopes })
  return authorizationCodeGrant(domain, client.client, { code, redirect_uri: REDIRECT }, '203.0.113.5')
}
