import { resolve } from 'node:path'
import { dialectOf } from './db/connection.js'
import { DEFAULT_SIGNING_ALGORITHM, isSigningAlgorithm, SIGNING_ALGORITHMS, type SigningAlgorithm } from './keys/algorithms.js'

export interface Config {
  port: number
  host: string
  databaseUrl: string
  redisUrl: string | undefined
  /** The public base URL, without a trailing slash. */
  issuer: string
  dataDir: string
  secret: string | undefined
  /** How long an access token is valid (`exp - iat`); one year by default. */
  accessTokenTtlSeconds: number
  /** Seconds a refresh token may wait to be used; each use issues a new one. */
  refreshTokenTtlSeconds: number
  /** Seconds an OpenID Connect ID token is valid (`exp - iat`). */
  idTokenTtlSeconds: number
  /** The JWS algorithm of access, ID and logout tokens; changing it rotates to a new key. */
  signingAlg: SigningAlgorithm
  /** API requests per user per window (the seeds' X-RateLimit-Limit: 200). */
  rateLimit: number
  rateLimitWindow: number
  /** Days the activity log keeps an entry. */
  activityRetentionDays: number
  /** Seconds between background prunes of expired rows. */
  pruneInterval: number
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (login
   * throttle, activity log): false, true (any), a hop count, or addresses/CIDRs.
   */
  trustProxy: boolean | number | string[]
  /** RFC 7591 dynamic client registration: off, open to anyone, or with an initial access token. */
  clientRegistration: 'off' | 'open' | 'token'
  /** Days a self-registered client may go without a token before the janitor deletes it. */
  registeredClientTtlDays: number
  /**
   * Hosts (`host` or `host:port`) that Gatehouse may call although they are
   * internal (private or loopback addresses), and over plain http: the
   * operator's own services. Every other URL it calls must be https on a
   * public address.
   */
  outboundAllowedHosts: string[]
  /** Which answered requests get a log line: every one, one in a hundred, or none. */
  accessLog: AccessLogMode
  /** Failed client authentications allowed per client id and calling address per window (RFC 6819 §5.1.4.2.3). */
  clientAuthThrottle: { limit: number; windowSeconds: number }
  /**
   * Login attempts per window: per address (every attempt, a success taking
   * its own back), per account and address pair (failures), and per account
   * from everywhere (failures; a far higher ceiling, so an attacker at one
   * address cannot lock the owner out).
   */
  loginThrottle: LoginThrottle
}

export interface LoginThrottle {
  windowSeconds: number
  perAddress: number
  perAccountAndAddress: number
  perAccount: number
}

export const DEFAULT_CLIENT_AUTH_THROTTLE = { limit: 20, windowSeconds: 60 }
export const DEFAULT_LOGIN_THROTTLE: LoginThrottle = { windowSeconds: 15 * 60, perAddress: 50, perAccountAndAddress: 5, perAccount: 100 }

export type AccessLogMode = 'off' | 'sampled' | 'all'

/** A setting that cannot be used; `setting` names the environment variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`)
  }
}

type Env = Record<string, string | undefined>

function port(env: Env): number {
  const raw = env.PORT ?? '3000'
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new ConfigError('PORT', `"${raw}" is not a port number (0-65535)`)
  return Number(raw)
}

function databaseUrl(env: Env, dataDir: string): string {
  const raw = env.DATABASE_URL ?? `sqlite:${resolve(dataDir, 'gatehouse.sqlite')}`
  const dialect = dialectOf(raw)
  if (dialect === 'sqlite') {
    if (raw.length === 'sqlite:'.length) throw new ConfigError('DATABASE_URL', 'sqlite: needs a file path, as in sqlite:./data/gatehouse.sqlite')
    return raw
  }
  if (dialect === 'postgres') {
    try {
      new URL(raw)
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL')
    }
    return raw
  }
  throw new ConfigError('DATABASE_URL', 'must start with sqlite: or postgres://')
}

function redisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL
  if (raw === undefined || raw === '') return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('REDIS_URL', 'is not a valid URL')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://')
  return raw
}

function issuer(env: Env, portNumber: number): string {
  const raw = env.GATEHOUSE_ISSUER ?? `http://localhost:${portNumber}`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('GATEHOUSE_ISSUER', `"${raw}" is not a URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('GATEHOUSE_ISSUER', 'must be an http:// or https:// URL')
  // RFC 8414 §2: the issuer has no query or fragment.
  if (url.search !== '' || url.hash !== '') throw new ConfigError('GATEHOUSE_ISSUER', 'must not have a query or fragment')
  return raw.replace(/\/+$/, '')
}

function secret(env: Env): string | undefined {
  const raw = env.GATEHOUSE_SECRET
  if (raw === undefined || raw === '') return undefined
  if (raw.length < 32) throw new ConfigError('GATEHOUSE_SECRET', 'must be at least 32 characters (e.g. openssl rand -base64 32)')
  return raw
}

function count(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new ConfigError(name, `"${raw}" is not a whole number between 1 and ${max}`)
  return Number(raw)
}

function seconds(env: Env, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 60 || Number(raw) > 10 * 365 * 24 * 3600) {
    throw new ConfigError(name, `"${raw}" is not a number of seconds between 60 and 315360000`)
  }
  return Number(raw)
}

export const DEFAULT_ACCESS_TOKEN_TTL = 31_536_000
export const DEFAULT_REFRESH_TOKEN_TTL = 2 * 31_536_000
export const DEFAULT_ID_TOKEN_TTL = 3600

function trustProxy(env: Env): boolean | number | string[] {
  const raw = env.GATEHOUSE_TRUST_PROXY?.trim()
  if (raw === undefined || raw === '' || raw === 'false') return false
  if (raw === 'true') return true
  if (/^\d+$/.test(raw)) return Number(raw)
  const entries = raw.split(',').map((e) => e.trim())
  if (entries.some((e) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e))) {
    throw new ConfigError('GATEHOUSE_TRUST_PROXY', 'must be true, false, a number of proxy hops, or comma-separated addresses or CIDR ranges')
  }
  return entries
}

function clientRegistration(env: Env): Config['clientRegistration'] {
  const raw = env.GATEHOUSE_CLIENT_REGISTRATION?.trim() || 'off'
  if (raw !== 'off' && raw !== 'open' && raw !== 'token') throw new ConfigError('GATEHOUSE_CLIENT_REGISTRATION', `"${raw}" is not one of off, open, token`)
  return raw
}

function hostList(env: Env, name: string): string[] {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '') return []
  const hosts = raw.split(',').map((h) => h.trim().toLowerCase())
  if (hosts.some((h) => !/^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/.test(h)))
    throw new ConfigError(name, 'must be comma-separated host names, such as intranet.example.com,localhost:8443')
  // `intranet.example.com.` is the same host as `intranet.example.com`, and is matched as such.
  return hosts.map((h) => h.replace(/\.+(?=:\d+$|$)/, ''))
}

function accessLog(env: Env): AccessLogMode {
  const raw = env.GATEHOUSE_ACCESS_LOG?.trim()
  if (raw === undefined || raw === '') return env.NODE_ENV === 'production' ? 'sampled' : 'all'
  if (raw === 'off' || raw === 'sampled' || raw === 'all') return raw
  throw new ConfigError('GATEHOUSE_ACCESS_LOG', `"${raw}" is not one of off, sampled, all`)
}

function signingAlg(env: Env): SigningAlgorithm {
  const raw = env.GATEHOUSE_SIGNING_ALG?.trim()
  if (raw === undefined || raw === '') return DEFAULT_SIGNING_ALGORITHM
  if (isSigningAlgorithm(raw)) return raw
  throw new ConfigError('GATEHOUSE_SIGNING_ALG', `"${raw}" is not one of ${SIGNING_ALGORITHMS.join(', ')}`)
}

export function loadConfig(env: Env = process.env): Config {
  const portNumber = port(env)
  const dataDir = resolve(env.GATEHOUSE_DATA_DIR ?? './data')
  const host = env.HOST ?? '127.0.0.1'
  if (host.trim() === '') throw new ConfigError('HOST', 'must not be empty')
  return {
    port: portNumber,
    host,
    databaseUrl: databaseUrl(env, dataDir),
    redisUrl: redisUrl(env),
    issuer: issuer(env, portNumber),
    dataDir,
    secret: secret(env),
    accessTokenTtlSeconds: seconds(env, 'GATEHOUSE_ACCESS_TOKEN_TTL', DEFAULT_ACCESS_TOKEN_TTL),
    refreshTokenTtlSeconds: seconds(env, 'GATEHOUSE_REFRESH_TOKEN_TTL', DEFAULT_REFRESH_TOKEN_TTL),
    idTokenTtlSeconds: seconds(env, 'GATEHOUSE_ID_TOKEN_TTL', DEFAULT_ID_TOKEN_TTL),
    signingAlg: signingAlg(env),
    rateLimit: count(env, 'GATEHOUSE_RATE_LIMIT', 200, 1_000_000),
    rateLimitWindow: count(env, 'GATEHOUSE_RATE_LIMIT_WINDOW', 60, 86_400),
    activityRetentionDays: count(env, 'GATEHOUSE_ACTIVITY_RETENTION_DAYS', 90, 36_500),
    pruneInterval: count(env, 'GATEHOUSE_PRUNE_INTERVAL', 600, 86_400),
    trustProxy: trustProxy(env),
    clientRegistration: clientRegistration(env),
    registeredClientTtlDays: count(env, 'GATEHOUSE_REGISTERED_CLIENT_TTL_DAYS', 90, 36_500),
    // The older name, from when only metadata documents were fetched, still adds to the list.
    outboundAllowedHosts: [...new Set([...hostList(env, 'GATEHOUSE_OUTBOUND_ALLOWED_HOSTS'), ...hostList(env, 'GATEHOUSE_CLIENT_METADATA_ALLOWED_HOSTS')])],
    accessLog: accessLog(env),
    clientAuthThrottle: {
      limit: count(env, 'GATEHOUSE_CLIENT_AUTH_LIMIT', DEFAULT_CLIENT_AUTH_THROTTLE.limit, 1_000_000),
      windowSeconds: count(env, 'GATEHOUSE_CLIENT_AUTH_WINDOW', DEFAULT_CLIENT_AUTH_THROTTLE.windowSeconds, 86_400),
    },
    loginThrottle: {
      windowSeconds: count(env, 'GATEHOUSE_LOGIN_WINDOW', DEFAULT_LOGIN_THROTTLE.windowSeconds, 86_400),
      perAddress: count(env, 'GATEHOUSE_LOGIN_LIMIT_PER_ADDRESS', DEFAULT_LOGIN_THROTTLE.perAddress, 1_000_000),
      perAccountAndAddress: count(env, 'GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS', DEFAULT_LOGIN_THROTTLE.perAccountAndAddress, 1_000_000),
      perAccount: count(env, 'GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT', DEFAULT_LOGIN_THROTTLE.perAccount, 1_000_000),
    },
  }
}
