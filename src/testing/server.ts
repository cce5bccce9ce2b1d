import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_BRAND, DEFAULT_CLIENT_AUTH_THROTTLE, DEFAULT_LOGIN_THROTTLE, type Config } from '../config.js'
import type { DialectName } from '../db/connection.js'
import { startServer, type RunningServer, type ServerOptions } from '../server.js'
import { createTestDatabase } from './databases.js'

export interface TestServer extends RunningServer {
  /** Stops the server and removes its database and data directory. */
  stop(): Promise<void>
  /** Stops the server and starts it again on the same database and data directory, with some settings changed. */
  restart(overrides: Partial<Config>): Promise<TestServer>
}

/** Starts the real server on a random port against a fresh database of the dialect. */
export async function startTestServer(
  dialect: DialectName,
  overrides: Partial<Config> = {},
  clock?: () => number,
  options: Pick<ServerOptions, 'shutdownGraceMs' | 'backchannelDelivery' | 'requestTimeoutMs' | 'mailPolicy' | 'webhookPolicy'> = {},
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
    accessTokenTtlSeconds: 31_536_000,
    refreshTokenTtlSeconds: 63_072_000,
    idTokenTtlSeconds: 3600,
    signingAlg: 'RS256',
    rateLimit: 200,
    rateLimitWindow: 60,
    activityRetentionDays: 90,
    pruneInterval: 600,
    trustProxy: false,
    clientAuthThrottle: DEFAULT_CLIENT_AUTH_THROTTLE,
    loginThrottle: DEFAULT_LOGIN_THROTTLE,
    clientRegistration: 'off',
    registeredClientTtlDays: 90,
    outboundAllowedHosts: [],
    webhookAllowedHosts: [],
    accessLog: 'off',
    smtpUrl: undefined,
    mailFrom: 'Gatehouse <no-reply@gatehouse.test>',
    mailWithoutSmtp: 'files',
    resetTtlSeconds: 3600,
    sandboxAccount: true,
    signup: 'off',
    // Many servers run at once in the tests: none takes the default port; the tests of the listener turn it on.
    managementPort: 'off',
    managementHost: '127.0.0.1',
    brand: DEFAULT_BRAND,
    ...overrides,
  }
  const launch = async (launched: Config, issuerGiven: boolean): Promise<TestServer> => {
    const server = await startServer({ ...launched }, { ...options, ...(clock ? { clock } : {}) })
    // The issuer is the public URL; in tests that is the random port just bound.
    if (!issuerGiven) server.ctx.config.issuer = server.url
    return {
      ...server,
      async stop() {
        await server.close()
        await database.drop()
        rmSync(dataDir, { recursive: true, force: true })
      },
      async restart(changed) {
        await server.close()
        return launch({ ...launched, ...changed }, issuerGiven || changed.issuer !== undefined)
      },
    }
  }
  return launch(config, overrides.issuer !== undefined)
}
