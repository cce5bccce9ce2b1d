import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ClientKeyCache } from './clients/client-keys.js'
import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import { ensureSandboxAccount, withdrawSandboxAccount, type FirstAccount } from './accounts/sandbox.js'
import { BufferedActivityLog } from './activity/recorder.js'
import { BufferedApiUsage } from './activity/usage.js'
import { buildApp, type HttpLimits } from './app.js'
import { ConfigError, type Config } from './config.js'
import type { AppContext } from './context.js'
import { deriveKeys, loadOrCreateSecret } from './crypto/master-key.js'
import { SecretBoxError } from './crypto/secret-box.js'
import { DatabaseUnavailableError, dialectOf, openDatabase, type Db } from './db/connection.js'
import { migrateToLatest } from './db/migrate.js'
import { KeyRing, signedTokenLifetimeMs } from './keys/signing-keys.js'
import { BackchannelLogout, type DeliveryPolicy } from './oidc/backchannel/delivery.js'
import { Outbox, type MailPolicy } from './mail/outbox.js'
import { Webhooks, type WebhookPolicy } from './webhooks/delivery.js'
import type { Logger as DomainLogger } from './logger.js'
import { createRateLimiter } from './ratelimit/limiter.js'
import { VerifiedTokenCache } from './tokens/cache/verified-cache.js'
import { startRevocationFeed } from './tokens/cache/revocation-feed.js'
import { startJanitor } from './tokens/janitor.js'
import { observeStatements } from './observability/database.js'
import { startManagement } from './observability/management.js'
import { readFrom } from './observability/metrics.js'
import { storeReadings } from './observability/store.js'
import { isTracing, traceFields } from './observability/tracing.js'

export interface RunningServer {
  app: FastifyInstance
  ctx: AppContext
  /** Where the server listens, e.g. http://127.0.0.1:3000 */
  url: string
  /** Set when this start created the sandbox account. */
  sandbox: FirstAccount['sandbox']
  /** No user exists yet and no sandbox account was made (NODE_ENV=production). */
  noUsers: boolean
  /** Where the management listener listens; undefined when it is off. */
  managementUrl: string | undefined
  close(): Promise<void>
}

export interface ServerOptions {
  logger?: boolean
  clock?: () => number
  /** Create the sandbox account on an empty database (the primary of `--workers` does it instead). */
  sandbox?: boolean
  /** How long `close()` lets open connections finish before it cuts them; SHUTDOWN_GRACE_MS unless told. */
  shutdownGraceMs?: number
  /** Back-channel logout retries; DEFAULT_DELIVERY unless told. */
  backchannelDelivery?: DeliveryPolicy
  /** How long a whole request may take to arrive; HTTP_LIMITS.requestTimeout unless told. */
  requestTimeoutMs?: number
  /** Mail retries; DEFAULT_MAIL_POLICY unless told. */
  mailPolicy?: MailPolicy
  /** Open the management listener (GATEHOUSE_MANAGEMENT_PORT); a cluster worker leaves it to the primary. */
  management?: boolean
  /** Webhook retries; DEFAULT_WEBHOOK_POLICY unless told. */
  webhookPolicy?: WebhookPolicy
}

/** The HTTP server's limits, set rather than inherited; the README's "HTTP limits" says why each. */
export const HTTP_LIMITS = {
  // A whole request, headers and body, must arrive within 30 s, so slow senders cannot hold connections open (Fastify's default is no limit); cut within a second of it.
  requestTimeout: 30_000,
  // Longer than the 60 s idle timeout of common load balancers: the balancer closes idle connections, so it never sends a request on one Gatehouse is closing.
  keepAliveTimeout: 72_000,
  // Far above any form or JSON body Gatehouse takes; a larger body is refused before it is read.
  bodyLimit: 1_048_576,
} as const satisfies HttpLimits

/** Past this, shutdown cuts the connections still open (a stalled upload, say): orchestrators often send SIGKILL after 30 s. */
export const SHUTDOWN_GRACE_MS = 10_000

/** Opens the database named by DATABASE_URL; a failure names the setting. Statements are timed while metrics or traces are on. */
export async function connectDatabase(config: Config): Promise<Db> {
  // Only the data directory is Gatehouse's to create; a SQLite file elsewhere must go into a directory that exists.
  const sqlitePath = config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl.slice('sqlite:'.length) : undefined
  if (sqlitePath !== undefined && dirname(resolve(sqlitePath)) === resolve(config.dataDir)) mkdirSync(config.dataDir, { recursive: true })
  const dialect = dialectOf(config.databaseUrl)
  const observed = dialect !== undefined && (config.managementPort !== 'off' || isTracing())
  try {
    return await openDatabase(config.databaseUrl, observed ? observeStatements(dialect) : undefined)
  } catch (err) {
    if (err instanceof DatabaseUnavailableError) throw new ConfigError('DATABASE_URL', err.message)
    throw err
  }
}

/** Opens the database named by DATABASE_URL and brings its schema up to date. */
export async function openMigratedDatabase(config: Config): Promise<Db> {
  const db = await connectDatabase(config)
  try {
    await migrateToLatest(db)
  } catch (err) {
    await db.close()
    throw new ConfigError('DATABASE_URL', (err as Error).message)
  }
  return db
}

export function createLogger(enabled: boolean): Logger {
  if (!enabled) return pino({ level: 'silent' })
  return pino({ level: 'info', ...(isTracing() ? { mixin: traceFields } : {}) })
}

/** Everything a running Gatehouse shares: the master secret, the migrated database, the signing keys. */
export async function openContext(
  config: Config,
  log: DomainLogger,
  clock: () => number = Date.now,
  delivery?: DeliveryPolicy,
  mailPolicy?: MailPolicy,
  webhookPolicy?: WebhookPolicy,
): Promise<AppContext> {
  const { secret } = loadOrCreateSecret(config.dataDir, config.secret)
  const db = await openMigratedDatabase(config)
  const keys = deriveKeys(secret)
  const keyRing = new KeyRing(db, keys.encryption, config.signingAlg, signedTokenLifetimeMs(config), clock)
  try {
    await keyRing.init()
  } catch (err) {
    await db.close()
    if (err instanceof SecretBoxError) throw new ConfigError('GATEHOUSE_SECRET', err.message)
    throw err
  }
  const activity = new BufferedActivityLog(db, clock, (err) => log.error({ err }, 'could not write the activity log'))
  const rateLimiter = await createRateLimiter(
    { limit: config.rateLimit, windowSeconds: config.rateLimitWindow, namespace: config.issuer },
    config.redisUrl,
    log,
  )
  const mail = new Outbox({ db, keys, config, activity, log, clock }, mailPolicy)
  const webhooks = new Webhooks({ db, keys, config, mail, log, clock }, webhookPolicy)
  activity.listen((entries) => webhooks.activityWritten(entries))
  const backchannel = new BackchannelLogout({ db, keyRing, config, clock, log, onSessionsEnded: (ended) => webhooks.sessionsEnded(ended) }, delivery)
  const usage = new BufferedApiUsage(db, clock, log)
  // RFC 7591 §3 leaves abuse to the server: 20 registrations a minute per address is many for a client retrying, few for a flood.
  const registrationRateLimiter = await createRateLimiter({ limit: 20, windowSeconds: 60, namespace: `${config.issuer} registration` }, config.redisUrl, log)
  const verifiedTokens = new VerifiedTokenCache(clock)
  const revocationFeed = await startRevocationFeed(verifiedTokens, db, { redisUrl: config.redisUrl, namespace: config.issuer, log })
  return {
    config,
    db,
    keys,
    keyRing,
    activity,
    usage,
    rateLimiter,
    registrationRateLimiter,
    verifiedTokens,
    revocationFeed,
    clientKeys: new ClientKeyCache(config, clock),
    backchannel,
    mail,
    webhooks,
    log,
    clock,
  }
}

/** Writes what is buffered and lets go of every connection. */
export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.backchannel.close()
  await ctx.mail.close()
  await ctx.activity.close()
  await ctx.webhooks.close()
  await ctx.usage.close()
  await ctx.rateLimiter.close()
  await ctx.registrationRateLimiter.close()
  await ctx.revocationFeed.close()
  await ctx.db.close()
}

/**
 * Closing, the server drops the keep-alive connections idle at that moment,
 * and Fastify answers requests that arrive afterwards with Connection: close.
 * A request already in flight would keep its connection open for the whole
 * keep-alive timeout after its answer: its answer says Connection: close too.
 */
function closeConnectionsWhenStopping(app: FastifyInstance): void {
  let stopping = false
  app.addHook('preClose', async () => {
    stopping = true
  })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (stopping) reply.header('Connection', 'close')
    done(null, payload)
  })
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const log = createLogger(options.logger ?? false)
  const ctx = await openContext(config, log, options.clock, options.backchannelDelivery, options.mailPolicy, options.webhookPolicy)
  const app = await buildApp(ctx, log, { ...HTTP_LIMITS, requestTimeout: options.requestTimeoutMs ?? HTTP_LIMITS.requestTimeout })
  closeConnectionsWhenStopping(app)
  // Before listening, so that the login page never answers before the account exists.
  const { sandbox, noUsers } =
    options.sandbox === false ? { sandbox: undefined, noUsers: false } : await ensureSandboxAccount(ctx.db, ctx.clock(), config.sandboxAccount)
  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    // Its password is printed only once the server runs: a failed start leaves no account nobody can log in to.
    if (sandbox) await withdrawSandboxAccount(ctx.db)
    await app.close()
    await closeContext(ctx)
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new ConfigError('PORT', `port ${config.port} is already in use on ${config.host}`)
    if (code === 'EACCES') throw new ConfigError('PORT', `not allowed to listen on port ${config.port}`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError('HOST', `cannot listen on ${config.host}`)
    throw err
  }
  let management
  try {
    management = options.management === false ? undefined : await startManagement(config, { db: ctx.db, cluster: false, log })
  } catch (err) {
    if (sandbox) await withdrawSandboxAccount(ctx.db)
    await app.close()
    await closeContext(ctx)
    throw err
  }
  const stopReading = readFrom(storeReadings(ctx.db, ctx.clock))
  const janitor = startJanitor(ctx, config.pruneInterval * 1000)
  ctx.backchannel.start()
  ctx.mail.start()
  ctx.webhooks.start()
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  return {
    app,
    ctx,
    url: `http://${host}:${port}`,
    sandbox,
    noUsers,
    managementUrl: management?.url,
    async close() {
      await management?.close()
      stopReading()
      await janitor.stop()
      const cut = setTimeout(() => {
        ctx.log.warn('connections still open after the shutdown grace period; closing them')
        app.server.closeAllConnections()
      }, options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS)
      try {
        await app.close()
      } finally {
        clearTimeout(cut)
      }
      await closeContext(ctx)
    },
  }
}
