import { resolve } from 'node:path'
import { dialectOf } from './db/connection.js'
import { DEFAULT_SIGNING_ALGORITHM, isSigningAlgorithm, SIGNING_ALGORITHMS, type SigningAlgorithm } from './keys/algorithms.js'

/** Where a setting is listed in docs/configuration.md. */
export type SettingTopic =
  | 'Server'
  | 'Branding'
  | 'Storage'
  | 'Tokens and keys'
  | 'Rate limits and throttles'
  | 'Client registration'
  | 'Mail and accounts'
  | 'Logging and housekeeping'
  | 'Monitoring'

/** One environment variable Gatehouse reads: its name, its default and what it means, in Markdown. */
export interface Setting {
  readonly name: string
  readonly topic: SettingTopic
  readonly default: string
  readonly meaning: string
}

/**
 * Every setting, in the order docs/configuration.md lists them. The parser
 * below reads only names from this list (SettingName), and the generated
 * document is written from it, so neither can drift from the other.
 */
export const SETTINGS = [
  { name: 'PORT', topic: 'Server', default: '`3000`', meaning: 'TCP port to listen on.' },
  { name: 'HOST', topic: 'Server', default: '`127.0.0.1`', meaning: 'Address to listen on. Set `0.0.0.0` to accept connections from other machines.' },
  {
    name: 'GATEHOUSE_ISSUER',
    topic: 'Server',
    default: '`http://localhost:PORT`',
    meaning:
      'The public base URL of this server, as users and integrators reach it (for example `https://auth.example.com`). A trailing slash is removed. With an `https://` issuer the session cookies are marked `Secure`.',
  },
  {
    name: 'GATEHOUSE_TRUST_PROXY',
    topic: 'Server',
    default: '`false`',
    meaning:
      "Behind a load balancer or reverse proxy: whose `X-Forwarded-For` to believe for the client's address (used by the login and client-authentication throttles and the activity log). `true` (any), a number of proxy hops, or comma-separated addresses or CIDR ranges such as `10.0.0.0/8`. See [Running as a service](operations.md#running-as-a-service).",
  },
  {
    name: 'GATEHOUSE_SECRET',
    topic: 'Server',
    default: 'generated into `<data dir>/secret.key` on first start',
    meaning:
      'The master secret; at least 32 characters (`openssl rand -base64 32`). Every process of one deployment must use the same secret: set it explicitly, or share the same `secret.key`. Keep it stable: Gatehouse derives its keys from it, and forms open in browsers stop working when it changes.',
  },
  {
    name: 'GATEHOUSE_PRODUCT_NAME',
    topic: 'Branding',
    default: '`Gatehouse`',
    meaning:
      'The name people know your product by: shown in the header and title of every page (login, consent, device, portal) and in every mail, in place of "Gatehouse". At most 60 characters.',
  },
  {
    name: 'GATEHOUSE_LOGO_URL',
    topic: 'Branding',
    default: 'not set (the name alone)',
    meaning:
      "A logo shown before the product name. Either an `https://` (or `http://`) URL, which only people's browsers load (Gatehouse never fetches it), or the name of an image file in `GATEHOUSE_DATA_DIR` (`.svg`, `.png`, `.jpg`, `.webp` or `.gif`, at most 512 KiB), which Gatehouse reads at start and serves itself.",
  },
  {
    name: 'GATEHOUSE_ACCENT_COLOR',
    topic: 'Branding',
    default: '`#1f5fbf`',
    meaning:
      'The colour of links and main buttons, as a CSS hex colour (`#rgb` or `#rrggbb`). Buttons carry white text: choose a colour dark enough to read it on.',
  },
  {
    name: 'DATABASE_URL',
    topic: 'Storage',
    default: '`sqlite:./data/gatehouse.sqlite` (the file `gatehouse.sqlite` in `GATEHOUSE_DATA_DIR`)',
    meaning:
      '`sqlite:PATH` or `postgres://user:password@host:port/database`. The directory of a SQLite file must exist; only `GATEHOUSE_DATA_DIR` is created when missing.',
  },
  { name: 'GATEHOUSE_DATA_DIR', topic: 'Storage', default: '`./data`', meaning: 'Where the SQLite file and the generated secret are kept.' },
  {
    name: 'REDIS_URL',
    topic: 'Storage',
    default: 'not set',
    meaning:
      'Optional `redis://` or `rediss://` URL. When set, every process counts API rate limits in Redis, so they share one budget per user. If Redis becomes unreachable, each process counts on its own (logged once) until it returns.',
  },
  {
    name: 'GATEHOUSE_ACCESS_TOKEN_TTL',
    topic: 'Tokens and keys',
    default: '`31536000` (1 year)',
    meaning:
      'Access-token lifetime in seconds (`expires_in`), 60 to 315360000. A year keeps integrations that never refresh working; `7200` gives 2-hour tokens, as some deployments prefer, so a leaked token is useful for less time and clients refresh instead.',
  },
  {
    name: 'GATEHOUSE_ID_TOKEN_TTL',
    topic: 'Tokens and keys',
    default: '`3600` (1 hour)',
    meaning: 'OpenID Connect ID-token lifetime in seconds, 60 to 315360000.',
  },
  {
    name: 'GATEHOUSE_REFRESH_TOKEN_TTL',
    topic: 'Tokens and keys',
    default: '`63072000` (2 years)',
    meaning: 'How long a refresh token may wait to be used, in seconds. Every use issues a new one.',
  },
  {
    name: 'GATEHOUSE_SIGNING_ALG',
    topic: 'Tokens and keys',
    default: '`RS256`',
    meaning:
      "The JWS algorithm of access tokens, ID tokens and logout tokens: `RS256` (RSA 2048, which OpenID Connect requires every client to accept), `ES256` (P-256) or `EdDSA` (Ed25519). A process that starts with an algorithm other than the signing key's makes a new key of that algorithm and signs with it from then on; the old public keys stay in the JWKS, with their `alg`, and tokens they signed keep working until the last of them has expired (the longest of the access-token, ID-token and logout-token lifetimes), then they leave the JWKS. Discovery's `*_signing_alg_values_supported` list the algorithms of the published keys. Give every process the same value: each signs with the newest key, whatever its own setting, until it restarts. Resource servers that pin an algorithm must accept the new one before the change.",
  },
  { name: 'GATEHOUSE_RATE_LIMIT', topic: 'Rate limits and throttles', default: '`200`', meaning: 'API requests per user per window (`X-RateLimit-Limit`).' },
  { name: 'GATEHOUSE_RATE_LIMIT_WINDOW', topic: 'Rate limits and throttles', default: '`60`', meaning: 'The rate-limit window in seconds.' },
  {
    name: 'GATEHOUSE_CLIENT_AUTH_LIMIT',
    topic: 'Rate limits and throttles',
    default: '`20`',
    meaning:
      'Failed client authentications allowed per client id and calling address per window, at the token, revocation and introspection endpoints. See [Security notes](security.md).',
  },
  { name: 'GATEHOUSE_CLIENT_AUTH_WINDOW', topic: 'Rate limits and throttles', default: '`60`', meaning: 'That window, in seconds.' },
  {
    name: 'GATEHOUSE_LOGIN_LIMIT_PER_ADDRESS',
    topic: 'Rate limits and throttles',
    default: '`50`',
    meaning: 'Login attempts allowed per address per login window (a successful login takes its own attempt back).',
  },
  {
    name: 'GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS',
    topic: 'Rate limits and throttles',
    default: '`5`',
    meaning: 'Failed logins allowed for one account from one address per login window.',
  },
  {
    name: 'GATEHOUSE_LOGIN_LIMIT_PER_ACCOUNT',
    topic: 'Rate limits and throttles',
    default: '`100`',
    meaning: 'Failed logins allowed for one account from all addresses together per login window.',
  },
  { name: 'GATEHOUSE_LOGIN_WINDOW', topic: 'Rate limits and throttles', default: '`900` (15 minutes)', meaning: 'The login window, in seconds.' },
  {
    name: 'GATEHOUSE_CLIENT_REGISTRATION',
    topic: 'Client registration',
    default: '`off`',
    meaning:
      'Dynamic client registration (RFC 7591) at `/oauth/register`: `off`, `open` (anyone may register, limited per address), or `token` (registration needs an initial access token from `gatehouse registration-tokens create`).',
  },
  {
    name: 'GATEHOUSE_REGISTERED_CLIENT_TTL_DAYS',
    topic: 'Client registration',
    default: '`90`',
    meaning: 'Days a self-registered client may go without a new token before the janitor deletes it. Clients nobody authorised are deleted after a day.',
  },
  {
    name: 'GATEHOUSE_OUTBOUND_ALLOWED_HOSTS',
    topic: 'Client registration',
    default: 'not set',
    meaning:
      "Comma-separated hosts (`name` or `name:port`) that Gatehouse may call although they are internal (private or loopback addresses), and over plain http: client metadata documents and back-channel logout URLs on your own network. Every other URL Gatehouse calls must be https on a public address. List only services that expect Gatehouse's calls. See [Security notes](security.md).",
  },
  {
    name: 'GATEHOUSE_CLIENT_METADATA_ALLOWED_HOSTS',
    topic: 'Client registration',
    default: 'not set',
    meaning: 'The older name of `GATEHOUSE_OUTBOUND_ALLOWED_HOSTS`: its hosts are added to that list.',
  },
  {
    name: 'GATEHOUSE_WEBHOOK_ALLOWED_HOSTS',
    topic: 'Client registration',
    default: 'not set',
    meaning:
      'Comma-separated hosts (`name` or `name:port`) that webhook endpoints may name although they are internal (private or loopback addresses), and over plain http. Every other webhook URL must be https on a public address, checked again on the address connected to. See [Webhooks](integrators.md#webhooks).',
  },
  {
    name: 'GATEHOUSE_ACCESS_LOG',
    topic: 'Logging and housekeeping',
    default: '`all`; `sampled` when `NODE_ENV=production`',
    meaning:
      'Which answered requests get a log line (method, path, status, milliseconds): `all`, `sampled` (one in a hundred) or `off`. Warnings and errors are logged in every mode.',
  },
  {
    name: 'GATEHOUSE_SMTP_URL',
    topic: 'Mail and accounts',
    default: 'not set',
    meaning:
      'The mail server: `smtp://user:pass@host:587` (STARTTLS when the server offers it) or `smtps://user:pass@host:465`. Without it, outside production, mail is written as `.eml` files under `<data dir>/outbox/` and its link is logged; in production Gatehouse warns once and pages that would send mail say to ask the administrator.',
  },
  { name: 'GATEHOUSE_MAIL_FROM', topic: 'Mail and accounts', default: '`Gatehouse <no-reply@localhost>`', meaning: 'The From of every mail.' },
  {
    name: 'GATEHOUSE_SIGNUP',
    topic: 'Mail and accounts',
    default: '`off`',
    meaning:
      '`open` lets anyone create an account and a team of their own at `/signup` (linked from the login page), confirmed by a mail; `off` answers 404 there. Signing up with an address that has an account mails that address instead, and the page answers the same.',
  },
  { name: 'GATEHOUSE_RESET_TTL', topic: 'Mail and accounts', default: '`3600`', meaning: 'Seconds a password reset link stays valid.' },
  {
    name: 'NODE_ENV',
    topic: 'Logging and housekeeping',
    default: 'not set',
    meaning:
      '`production` makes `sampled` the default of `GATEHOUSE_ACCESS_LOG`, and without `GATEHOUSE_SMTP_URL` sends no mail rather than writing `.eml` files.',
  },
  {
    name: 'GATEHOUSE_ACTIVITY_RETENTION_DAYS',
    topic: 'Logging and housekeeping',
    default: '`90`',
    meaning: 'How long the activity log keeps an entry; pruning removes older ones.',
  },
  { name: 'GATEHOUSE_PRUNE_INTERVAL', topic: 'Logging and housekeeping', default: '`600`', meaning: 'Seconds between background prunes of expired rows.' },
  {
    name: 'GATEHOUSE_MANAGEMENT_PORT',
    topic: 'Monitoring',
    default: '`9464`',
    meaning:
      'The management listener, apart from `PORT`: `/metrics` (Prometheus), `/healthz` and `/readyz`. `off` turns it off. With `--workers N` the primary process answers for the whole cluster. See [Monitoring](operations.md#monitoring).',
  },
  {
    name: 'GATEHOUSE_MANAGEMENT_HOST',
    topic: 'Monitoring',
    default: '`127.0.0.1`',
    meaning: "Address the management listener listens on. Metrics describe every client's traffic: open it only to your monitoring network.",
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    topic: 'Monitoring',
    default: 'not set (no tracing)',
    meaning:
      'OpenTelemetry traces are sent over OTLP/HTTP (JSON) to this collector (`/v1/traces` is appended); `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` names the full URL instead. Unset, Gatehouse records no spans. The standard `OTEL_SERVICE_NAME` (default `gatehouse`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`, `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_TIMEOUT` apply.',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    topic: 'Monitoring',
    default: 'not set',
    meaning: 'The full OTLP/HTTP traces URL, in place of `OTEL_EXPORTER_OTLP_ENDPOINT`.',
  },
] as const satisfies readonly Setting[]

export type SettingName = (typeof SETTINGS)[number]['name']

export interface Config {
  port: number
  host: string
  databaseUrl: string
  redisUrl: string | undefined
  /** The public base URL, without a trailing slash. */
  issuer: string
  dataDir: string
  secret: string | undefined
  /** Seconds an access token is valid (`expires_in`): a year by default, shorter (such as 7200) where deployments prefer it. */
  accessTokenTtlSeconds: number
  /** Seconds a refresh token may wait to be used; each use issues a new one. */
  refreshTokenTtlSeconds: number
  /** Seconds an OpenID Connect ID token is valid (`exp - iat`). */
  idTokenTtlSeconds: number
  /** The JWS algorithm of access, ID and logout tokens; changing it rotates to a new key. */
  signingAlg: SigningAlgorithm
  /** API requests per user per window, announced as X-RateLimit-Limit. */
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
  /** Hosts webhook endpoints may name although they are internal, and over plain http. */
  webhookAllowedHosts: string[]
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
  /** Where mail goes: smtp:// (STARTTLS when the server offers it) or smtps://; none: see `mailWithoutSmtp`. */
  smtpUrl: string | undefined
  /** The From of every mail, as in `Gatehouse <no-reply@example.com>`. */
  mailFrom: string
  /** Without SMTP: mail written as .eml files under the data directory (outside production), or not sent at all. */
  mailWithoutSmtp: 'files' | 'off'
  /** Seconds a password reset link stays valid. */
  resetTtlSeconds: number
  /**
   * Whether a first start on an empty database creates the sandbox account.
   * Never with NODE_ENV=production: its password goes to standard output, and
   * a production log is read by more people than should hold it.
   */
  sandboxAccount: boolean
  /** Whether anyone may create an account and a team of their own at /signup. */
  signup: 'off' | 'open'
  /** The port of the management listener (/metrics, /healthz, /readyz), or off. */
  managementPort: number | 'off'
  managementHost: string
  /** What people see the product as: its name, its logo and its accent colour. */
  brand: Brand
}

/**
 * The product as people know it. A logo is either a URL only browsers load,
 * or a file of the data directory that Gatehouse serves at /assets/logo.
 */
export interface Brand {
  productName: string
  logo: { url: string } | { file: string } | undefined
  /** A CSS hex colour, checked. */
  accentColor: string
}

export const DEFAULT_BRAND: Brand = { productName: 'Gatehouse', logo: undefined, accentColor: '#1f5fbf' }

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

export const DEFAULT_MANAGEMENT_PORT = 9464

function managementPort(env: Env, publicPort: number): number | 'off' {
  const raw = env.GATEHOUSE_MANAGEMENT_PORT?.trim() || String(DEFAULT_MANAGEMENT_PORT)
  if (raw === 'off') return 'off'
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new ConfigError('GATEHOUSE_MANAGEMENT_PORT', `"${raw}" is not a port number (0-65535) or off`)
  if (Number(raw) !== 0 && Number(raw) === publicPort) throw new ConfigError('GATEHOUSE_MANAGEMENT_PORT', `must differ from PORT (${publicPort})`)
  return Number(raw)
}

function managementHost(env: Env): string {
  const raw = env.GATEHOUSE_MANAGEMENT_HOST?.trim()
  return raw === undefined || raw === '' ? '127.0.0.1' : raw
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

function count(env: Env, name: SettingName, fallback: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new ConfigError(name, `"${raw}" is not a whole number between 1 and ${max}`)
  return Number(raw)
}

function seconds(env: Env, name: SettingName, fallback: number): number {
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
const DEFAULT_RESET_TTL = 3600

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

function hostList(env: Env, name: SettingName): string[] {
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

function smtpUrl(env: Env): string | undefined {
  const raw = env.GATEHOUSE_SMTP_URL?.trim()
  if (raw === undefined || raw === '') return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('GATEHOUSE_SMTP_URL', 'is not a URL, such as smtp://user:password@mail.example.com:587')
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ConfigError('GATEHOUSE_SMTP_URL', 'must start with smtp:// or smtps://')
  if (url.hostname === '') throw new ConfigError('GATEHOUSE_SMTP_URL', 'must name the mail server, as in smtp://mail.example.com:587')
  return raw
}

function mailFrom(env: Env): string {
  const raw = env.GATEHOUSE_MAIL_FROM?.trim()
  if (raw === undefined || raw === '') return 'Gatehouse <no-reply@localhost>'
  // A From header with a line break could add headers of its own.
  if (/[\r\n]/.test(raw) || !/^([^<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(raw))
    throw new ConfigError('GATEHOUSE_MAIL_FROM', 'must be an address, as in Gatehouse <no-reply@example.com>')
  return raw
}

function signup(env: Env): Config['signup'] {
  const raw = env.GATEHOUSE_SIGNUP?.trim() || 'off'
  if (raw !== 'off' && raw !== 'open') throw new ConfigError('GATEHOUSE_SIGNUP', `"${raw}" is not one of off, open`)
  return raw
}

function signingAlg(env: Env): SigningAlgorithm {
  const raw = env.GATEHOUSE_SIGNING_ALG?.trim()
  if (raw === undefined || raw === '') return DEFAULT_SIGNING_ALGORITHM
  if (isSigningAlgorithm(raw)) return raw
  throw new ConfigError('GATEHOUSE_SIGNING_ALG', `"${raw}" is not one of ${SIGNING_ALGORITHMS.join(', ')}`)
}

function productName(env: Env): string {
  const raw = env.GATEHOUSE_PRODUCT_NAME?.trim()
  if (raw === undefined || raw === '') return DEFAULT_BRAND.productName
  if (raw.length > 60 || /\p{Cc}/u.test(raw)) throw new ConfigError('GATEHOUSE_PRODUCT_NAME', 'must be at most 60 characters, without control characters')
  return raw
}

const LOGO_FILE = /^[\w.-]+\.(svg|png|jpe?g|webp|gif)$/i

function logo(env: Env, dataDir: string): Brand['logo'] {
  const raw = env.GATEHOUSE_LOGO_URL?.trim()
  if (raw === undefined || raw === '') return undefined
  if (/^https?:\/\//i.test(raw)) {
    try {
      return { url: new URL(raw).href }
    } catch {
      throw new ConfigError('GATEHOUSE_LOGO_URL', `"${raw}" is not a URL`)
    }
  }
  // A bare file name: nothing outside the data directory can be served as the logo.
  if (!LOGO_FILE.test(raw) || raw.startsWith('.'))
    throw new ConfigError('GATEHOUSE_LOGO_URL', 'must be an https:// URL or the name of an .svg, .png, .jpg, .webp or .gif file in the data directory')
  return { file: resolve(dataDir, raw) }
}

function accentColor(env: Env): string {
  const raw = env.GATEHOUSE_ACCENT_COLOR?.trim()
  if (raw === undefined || raw === '') return DEFAULT_BRAND.accentColor
  if (!/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(raw)) throw new ConfigError('GATEHOUSE_ACCENT_COLOR', `"${raw}" is not a CSS hex colour such as #1f5fbf`)
  return raw.toLowerCase()
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
    webhookAllowedHosts: hostList(env, 'GATEHOUSE_WEBHOOK_ALLOWED_HOSTS'),
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
    smtpUrl: smtpUrl(env),
    mailFrom: mailFrom(env),
    mailWithoutSmtp: env.NODE_ENV === 'production' ? 'off' : 'files',
    resetTtlSeconds: seconds(env, 'GATEHOUSE_RESET_TTL', DEFAULT_RESET_TTL),
    sandboxAccount: env.NODE_ENV !== 'production',
    signup: signup(env),
    managementPort: managementPort(env, portNumber),
    managementHost: managementHost(env),
    brand: { productName: productName(env), logo: logo(env, dataDir), accentColor: accentColor(env) },
  }
}
