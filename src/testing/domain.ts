/**
 * The domain's dependencies on a real database without a server, for unit
 * tests of the grants and the bearer check: `sqlite::memory:` unless told
 * otherwise, migrated, with real signing keys and a real activity log.
 */
import { randomUUID } from 'node:crypto'
import { BufferedActivityLog } from '../activity/recorder.js'
import { DEFAULT_CLIENT_AUTH_THROTTLE, DEFAULT_LOGIN_THROTTLE } from '../config.js'
import { deriveKeys, type Keys } from '../crypto/master-key.js'
import { hashSecret, randomSecret } from '../crypto/random.js'
import { insertAuthorizationCode } from '../db/authorization-codes.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { KeyRing, signedTokenLifetimeMs } from '../keys/signing-keys.js'
import type { GrantDeps } from '../oauth/grants/deps.js'
import type { TokenEndpointDeps } from '../oauth/token-endpoint.js'
import type { VerificationDeps } from '../tokens/verify.js'

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
