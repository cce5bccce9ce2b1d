import cluster from 'node:cluster'
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, register, type LabelValues, type PrometheusContentType } from 'prom-client'

/**
 * Every metric Gatehouse exports, in the process-wide registry of
 * prom-client. Label values come from short fixed lists (a route template,
 * never a path; a grant type; an RFC error code; an outcome), so no user,
 * client or token ever becomes a series. Hot paths keep the children they
 * need bound once, so a request costs an increment, not a label lookup.
 */

/** From a tenth of a millisecond (`/api/v2/me` answered from the cache) to ten seconds (a stalled database). */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Binds one child per label value up front, so each shows as 0 before it first happens and is found without building a key. */
function bound<Label extends string, Value extends string>(
  metric: Counter<Label>,
  label: Label,
  values: readonly Value[],
): Record<Value, { inc(by?: number): void }> {
  return Object.fromEntries(
    values.map((value) => {
      const child = metric.labels({ [label]: value } as unknown as LabelValues<Label>)
      child.inc(0)
      return [value, child]
    }),
  ) as Record<Value, { inc(by?: number): void }>
}

export const httpRequestDuration = new Histogram({
  name: 'gatehouse_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by route template, method and status class; its _count is the number of requests.',
  labelNames: ['route', 'method', 'status_class'] as const,
  buckets: LATENCY_BUCKETS,
})

export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'password',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
] as const
export const tokensIssued = bound(
  new Counter({
    name: 'gatehouse_tokens_issued_total',
    help: 'Token responses issued by the token endpoint, by grant type.',
    labelNames: ['grant_type'] as const,
  }),
  'grant_type',
  GRANT_TYPES,
)

const tokenRefusals = new Counter({
  name: 'gatehouse_token_refusals_total',
  help: 'Token-endpoint requests refused, by RFC 6749 error code.',
  labelNames: ['error'] as const,
})
const TOKEN_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'authorization_pending',
  'slow_down',
  'access_denied',
  'expired_token',
  'temporarily_unavailable',
  'server_error',
] as const
const tokenRefusalsByError = bound(tokenRefusals, 'error', TOKEN_ERRORS)
/** Codes outside the known list count as `other`, so a new error class can never add series without a release note. */
export function countTokenRefusal(error: string): void {
  ;((tokenRefusalsByError as Record<string, { inc(): void }>)[error] ?? otherTokenRefusal).inc()
}
const otherTokenRefusal = tokenRefusals.labels({ error: 'other' })

export const replaysDetected = bound(
  new Counter({
    name: 'gatehouse_replays_detected_total',
    help: 'Authorization codes, device codes and refresh tokens presented again after their use: each ends its token family.',
    labelNames: ['kind'] as const,
  }),
  'kind',
  ['authorization_code', 'refresh_token', 'device_code'] as const,
)

export const familiesRevoked = bound(
  new Counter({
    name: 'gatehouse_token_families_revoked_total',
    help: 'Token families (a grant and every token issued from it) revoked, by cause.',
    labelNames: ['cause'] as const,
  }),
  'cause',
  ['replay', 'revocation'] as const,
)

export const introspections = bound(
  new Counter({ name: 'gatehouse_introspections_total', help: 'Token introspection requests (RFC 7662), by outcome.', labelNames: ['outcome'] as const }),
  'outcome',
  ['active', 'inactive', 'refused'] as const,
)

export const revocations = bound(
  new Counter({ name: 'gatehouse_revocations_total', help: 'Token revocation requests (RFC 7009), by outcome.', labelNames: ['outcome'] as const }),
  'outcome',
  ['revoked', 'refused'] as const,
)

export const clientAuthenticationFailures = bound(
  new Counter({
    name: 'gatehouse_client_authentication_failures_total',
    help: 'Failed client authentications at the token, revocation and introspection endpoints, by reason.',
    labelNames: ['reason'] as const,
  }),
  'reason',
  ['invalid_client', 'throttled'] as const,
)

export const consents = bound(
  new Counter({ name: 'gatehouse_consents_total', help: 'Consent screens shown, and the answers given to them.', labelNames: ['outcome'] as const }),
  'outcome',
  ['shown', 'approved', 'denied'] as const,
)

export const idTokensIssued = new Counter({ name: 'gatehouse_id_tokens_issued_total', help: 'OpenID Connect ID tokens signed.' })

export const registrations = bound(
  new Counter({ name: 'gatehouse_client_registrations_total', help: 'Dynamic client registrations (RFC 7591), by outcome.', labelNames: ['outcome'] as const }),
  'outcome',
  ['registered', 'refused'] as const,
)

export const metadataDocumentFetches = bound(
  new Counter({
    name: 'gatehouse_client_metadata_document_fetches_total',
    help: 'Client metadata documents fetched from their URL, by outcome.',
    labelNames: ['outcome'] as const,
  }),
  'outcome',
  ['fetched', 'failed'] as const,
)

export const logins = bound(
  new Counter({
    name: 'gatehouse_logins_total',
    help: 'Password checks at the login page and the password grant, by outcome.',
    labelNames: ['outcome'] as const,
  }),
  'outcome',
  ['success', 'wrong_password', 'throttled', 'locked', 'disabled', 'second_factor'] as const,
)

export const verifiedTokenCache = bound(
  new Counter({
    name: 'gatehouse_verified_token_cache_lookups_total',
    help: 'Access-token checks answered from the verified-token cache, the whole standing or the signature (hit), or that verified the signature afresh (miss).',
    labelNames: ['result'] as const,
  }),
  'result',
  ['hit', 'miss'] as const,
)

export const revocationNotices = bound(
  new Counter({
    name: 'gatehouse_revocation_notices_total',
    help: 'Revocation notices received by the verified-token cache, by the way they came.',
    labelNames: ['channel'] as const,
  }),
  'channel',
  ['local', 'postgres', 'redis'] as const,
)

const noticeLag = new Histogram({
  name: 'gatehouse_revocation_notice_lag_seconds',
  help: 'From the revoking write to its notice reaching this process, by the way it came; clocks of other machines count.',
  labelNames: ['channel'] as const,
  buckets: LATENCY_BUCKETS,
})

export const revocationNoticeLag = { postgres: noticeLag.labels({ channel: 'postgres' }), redis: noticeLag.labels({ channel: 'redis' }) }

export const janitorPrunedRows = new Counter({
  name: 'gatehouse_janitor_pruned_rows_total',
  help: 'Expired rows deleted by the background janitor, by kind of row.',
  labelNames: ['kind'] as const,
})

export const rateLimitRefusals = bound(
  new Counter({
    name: 'gatehouse_rate_limit_refusals_total',
    help: 'Requests refused by a rate limit or throttle, by which.',
    labelNames: ['limit'] as const,
  }),
  'limit',
  ['api', 'registration', 'login', 'client_authentication'] as const,
)

export const dbStatementDuration = new Histogram({
  name: 'gatehouse_db_statement_duration_seconds',
  help: 'Time the database took to run a statement, by kind of statement.',
  labelNames: ['kind'] as const,
  buckets: LATENCY_BUCKETS,
})

/** The queues whose depth and oldest item are watched. */
export const QUEUES = ['backchannel_logout', 'mail', 'webhooks'] as const
export type QueueName = (typeof QUEUES)[number]

/** What the scrape reads from the shared database: every process sees the same rows, so the cluster reports the largest, not the sum. */
export interface StoreReadings {
  queues(): Promise<Record<QueueName, { depth: number; oldestCreatedAt: number | null }>>
  activeSessions(): Promise<number>
  pool(): { size: number; busy: number; idle: number; waiting: number }
  clock(): number
}

let readings: StoreReadings | undefined

/** The database the scrape reads queue depths and sessions from, until the returned function is called. */
export function readFrom(source: StoreReadings): () => void {
  readings = source
  return () => {
    if (readings === source) readings = undefined
  }
}

new Gauge({
  name: 'gatehouse_queue_depth',
  help: 'Items waiting in a durable queue.',
  labelNames: ['queue'] as const,
  aggregator: 'max',
  async collect() {
    const queues = await readings?.queues()
    for (const queue of QUEUES) this.set({ queue }, queues?.[queue].depth ?? 0)
  },
})

// Read on its own: the registry collects every metric at once, so one gauge's collect cannot fill in another's.
new Gauge({
  name: 'gatehouse_queue_oldest_age_seconds',
  help: 'Age of the oldest item in a durable queue; 0 when it is empty.',
  labelNames: ['queue'] as const,
  aggregator: 'max',
  async collect() {
    const queues = await readings?.queues()
    const now = readings?.clock() ?? 0
    for (const queue of QUEUES) {
      const oldest = queues?.[queue].oldestCreatedAt
      this.set({ queue }, oldest == null ? 0 : Math.max(0, (now - oldest) / 1000))
    }
  },
})

new Gauge({
  name: 'gatehouse_active_sessions',
  help: 'Portal sessions not yet expired or ended.',
  aggregator: 'max',
  async collect() {
    this.set((await readings?.activeSessions()) ?? 0)
  },
})

new Gauge({
  name: 'gatehouse_db_pool_connections',
  help: 'Database connections of the pool, by state (SQLite: the one connection).',
  labelNames: ['state'] as const,
  collect() {
    const pool = readings?.pool()
    this.set({ state: 'busy' }, pool?.busy ?? 0)
    this.set({ state: 'idle' }, pool?.idle ?? 0)
    poolSize.set(pool?.size ?? 0)
    poolWaiting.set(pool?.waiting ?? 0)
  },
})
const poolSize = new Gauge({ name: 'gatehouse_db_pool_size', help: 'The most connections the database pool opens.' })
const poolWaiting = new Gauge({ name: 'gatehouse_db_pool_waiting', help: 'Statements waiting for a free database connection.' })

collectDefaultMetrics()
// Gauges named like counters, which `promtool check metrics` refuses; the same counts stay, by type, in nodejs_active_handles, _requests and _resources.
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) register.removeSingleMetric(name)

// A cluster worker answers the primary's requests for its metrics; constructing the aggregator sets that up.
if (cluster.isWorker) new AggregatorRegistry<PrometheusContentType>()

/** This process's metrics, or the whole cluster's when this is the primary of `--workers`. */
export function scrape(aggregate: boolean): Promise<{ contentType: string; text: string }> {
  if (aggregate) {
    const aggregator = clusterAggregator()
    return aggregator.clusterMetrics().then((text: string) => ({ contentType: aggregator.contentType, text }))
  }
  return register.metrics().then((text) => ({ contentType: register.contentType, text }))
}

let aggregator: AggregatorRegistry<PrometheusContentType> | undefined
function clusterAggregator(): AggregatorRegistry<PrometheusContentType> {
  return (aggregator ??= new AggregatorRegistry())
}
