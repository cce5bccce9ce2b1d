import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Config } from '../config.js'
import type { DialectName } from '../db/connection.js'
import { startServer, type RunningServer, type ServerOptions } from '../server.js'
import { createTestDatabase } from './databases.js'

export interface TestServer extends RunningServer {
  /** Stops the server and removes its database and data directory. */
  stop(): Promise<void>
}

/** Starts the real server on a random port against a fresh database of the dialect. */
export async function startTestServer(
  dialect: DialectName,
  overrides: Partial<Config> = {},
  clock?: () => number,
  options: Pick<ServerOptions, 'shutdownGraceMs'> = {},
): Promise<TestServer> {
  const database = await createTestDatabase(dialect)
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-data-'))
  const config: Config = {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: database.url,
    redisUrl: undefined,
    issuer: 'http://127.0.0.1',
    dataDir,
    secret: 'test-secret-test-secret-test-secret-0123',
    accessTokenTtl: 31_536_000,
    refreshTokenTtl: 63_072_000,
    idTokenTtl: 3600,
    rateLimit: 200,
    rateLimitWindow: 60,
    activityRetentionDays: 90,
    pruneInterval: 600,
    trustProxy: false,
    clientRegistration: 'off',
    registeredClientTtlDays: 90,
    clientMetadataAllowedHosts: [],
    accessLog: 'off',
    ...overrides,
  }
  const server = await startServer(config, { ...options, ...(clock ? { clock } : {}) })
  // The issuer is the public URL; in tests that is the random port just bound.
  if (overrides.issuer === undefined) server.ctx.config.issuer = server.url
  return {
    ...server,
    async stop() {
      await server.close()
      await database.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
