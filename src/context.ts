import type { Config } from './config.js'
import type { Keys } from './crypto/master-key.js'
import type { Db } from './db/connection.js'
import type { KeyRing } from './keys/signing-keys.js'
import type { ActivityLog } from './activity/recorder.js'
import type { ApiUsage } from './activity/usage.js'
import type { RateLimiter } from './ratelimit/limiter.js'
import type { VerifiedTokenCache } from './tokens/cache/verified-cache.js'
import type { RevocationFeed } from './tokens/cache/revocation-feed.js'
import type { Logger } from './logger.js'
import type { BackchannelLogout } from './oidc/backchannel/delivery.js'
import type { Outbox } from './mail/outbox.js'
import type { ClientKeyCache } from './clients/client-keys.js'
import type { Webhooks } from './webhooks/delivery.js'

/**
 * What every part of the running server shares, built once at start. The
 * domain never takes it whole: each function names the parts it uses.
 */
export interface AppContext {
  config: Config
  db: Db
  keys: Keys
  /** The signing keys for access tokens, shared through the database by every process. */
  keyRing: KeyRing
  activity: ActivityLog
  /** API calls, counted per token and minute. */
  usage: ApiUsage
  rateLimiter: RateLimiter
  /** Dynamic client registrations per address. */
  registrationRateLimiter: RateLimiter
  verifiedTokens: VerifiedTokenCache
  /** Keeps verifiedTokens true to revocations made by any process. */
  revocationFeed: RevocationFeed
  /** Tells the clients a session signed in to when it ends (OpenID Connect Back-Channel Logout). */
  backchannel: BackchannelLogout
  /** The public keys of private_key_jwt clients that registered a jwks_uri, as last fetched. */
  clientKeys: ClientKeyCache
  /** Mail, queued durably and sent in the background. */
  mail: Outbox
  /** A team's events, signed and sent durably to its webhook endpoints. */
  webhooks: Webhooks
  log: Logger
  /** Milliseconds since the epoch; replaced in tests that move time. */
  clock: () => number
}
