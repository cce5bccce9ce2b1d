import { Redis } from 'ioredis'

export function redisUrl(): string {
  return process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
}

let check: Promise<string | undefined> | undefined

/** Why the Redis suite cannot run here, or undefined. Under CI=true an unreachable Redis fails instead. */
export function redisSkipReason(): Promise<string | undefined> {
  check ??= (async () => {
    const client = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      return undefined
    } catch (err) {
      const message = `Redis at ${redisUrl()} is unreachable: ${(err as Error).message}`
      if (process.env.CI === 'true' || process.env.TEST_REDIS_URL) throw new Error(message, { cause: err })
      return `${message} (set TEST_REDIS_URL to run the Redis suite)`
    } finally {
      client.disconnect()
    }
  })()
  return check
}
