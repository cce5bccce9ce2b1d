import cluster from 'node:cluster'
import {
  RateLimiterCluster,
  RateLimiterClusterMaster,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible'

export interface RateLimitPolicy {
  /** Requests allowed per window (200 by default, announced as X-RateLimit-Limit). */
  limit: number
  windowSeconds: number
  /** Keeps the counts of one deployment apart from another's in a shared Redis (the issuer URL). */
  namespace?: string
}

export interface RateLimitDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Epoch seconds at which the window ends and the budget is whole again. */
  resetAt: number
  /** Seconds to wait before trying again, when refused. */
  retryAfter: number
}

export interface RateLimiter {
  consume(key: string): Promise<RateLimitDecision>
  close(): Promise<void>
}

interface Logger {
  warn(message: string): void
  info(message: string): void
}

function decision(policy: RateLimitPolicy, res: RateLimiterRes, allowed: boolean, now: number): RateLimitDecision {
  return {
    allowed,
    limit: policy.limit,
    remaining: Math.max(0, res.remainingPoints),
    resetAt: Math.ceil((now + res.msBeforeNext) / 1000),
    retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  }
}

class FlexibleRateLimiter implements RateLimiter {
  constructor(
    private readonly policy: RateLimitPolicy,
    private readonly limiter: RateLimiterAbstract,
    private readonly onClose: () => Promise<void>,
  ) {}

  async consume(key: string): Promise<RateLimitDecision> {
    const now = Date.now()
    try {
      return decision(this.policy, await this.limiter.consume(key, 1), true, now)
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return decision(this.policy, rejection, false, now)
      throw rejection
    }
  }

  close(): Promise<void> {
    return this.onClose()
  }
}

/**
 * The Redis connections of this process's limiters (the API's, the
 * registration endpoint's) that are down. One outage is one line in the log
 * when the first goes down and one when the last comes back, not one per
 * limiter.
 */
const unreachable = new Set<object>()

/**
 * The API's per-user budget. In one process the count lives in memory; with
 * REDIS_URL every process counts in Redis, so they share one budget. If Redis
 * goes away, each process counts on its own in memory (said once in the log)
 * and goes back to Redis when it returns.
 */
export async function createRateLimiter(policy: RateLimitPolicy, redisUrl: string | undefined, log: Logger): Promise<RateLimiter> {
  const options = { points: policy.limit, duration: policy.windowSeconds, keyPrefix: `gatehouse:ratelimit:${policy.namespace ?? 'default'}` }
  const memory = new RateLimiterMemory(options)
  if (redisUrl === undefined) {
    // Workers of one `serve --workers N` count in their primary process, so they share one budget without Redis.
    if (cluster.isWorker)
      return new FlexibleRateLimiter(policy, new RateLimiterCluster({ ...options, timeoutMs: 1000, insuranceLimiter: memory }), async () => {})
    return new FlexibleRateLimiter(policy, memory, async () => {})
  }

  // No offline queue: while Redis is down, a command fails at once and the
  // in-memory limiter answers, instead of requests waiting on a reconnect.
  // Loaded only when Redis is configured, to keep a single process small.
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 1000 })
  redis.on('error', () => {
    if (unreachable.has(redis)) return
    unreachable.add(redis)
    if (unreachable.size === 1) log.warn('Redis is unreachable: rate limits are counted in this process until it returns')
  })
  redis.on('ready', () => {
    if (!unreachable.delete(redis)) return
    if (unreachable.size === 0) log.info('Redis is reachable again: rate limits are shared again')
  })
  // A process that answered its first requests before the connection was up
  // would count them on its own; wait for it, bounded by the connect timeout.
  await new Promise<void>((resolve) => {
    const settle = () => {
      clearTimeout(timer)
      redis.off('ready', settle)
      redis.off('error', settle)
      resolve()
    }
    const timer = setTimeout(settle, 2000)
    redis.once('ready', settle)
    redis.once('error', settle)
  })
  const limiter = new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory })
  return new FlexibleRateLimiter(policy, limiter, async () => {
    unreachable.delete(redis)
    redis.disconnect()
  })
}

/** In the primary process of `serve --workers N`: keeps the counts its workers share. */
export function hostClusterRateLimits(): void {
  new RateLimiterClusterMaster()
}
