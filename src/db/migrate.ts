import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely'
import type { Db, DialectName } from './connection.js'
import { accounts } from './migrations/001_accounts.js'
import { oauth } from './migrations/002_oauth.js'
import { api } from './migrations/003_api.js'
import { redirectUris } from './migrations/004_redirect_uris.js'
import { portal } from './migrations/006_portal.js'
import { apiUsage } from './migrations/007_api_usage.js'
import { openid } from './migrations/008_openid.js'
import { resources } from './migrations/009_resources.js'
import { registration } from './migrations/009b_registration.js'
import { authorizationRequests } from './migrations/004b_authorization_requests.js'
import { throttleCounters } from './migrations/004c_throttle_counters.js'
import { consentSkipped } from './migrations/011_consent_skipped.js'
import { backchannelDeliveries } from './migrations/011b_backchannel_deliveries.js'
import { revocationNotices } from './migrations/013_revocation_notices.js'
import { idTokenAlg } from './migrations/014_id_token_alg.js'

function migrationsFor(dialect: DialectName): Record<string, Migration> {
  return {
    '001_accounts': accounts(dialect),
    '002_oauth': oauth(),
    '003_api': api(dialect),
    '004_redirect_uris': redirectUris(),
    '006_portal': portal(),
    '007_api_usage': apiUsage(),
    '008_openid': openid(),
    '009_resources': resources(),
    '009b_registration': registration(dialect),
    '004b_authorization_requests': authorizationRequests(),
    '004c_throttle_counters': throttleCounters(),
    '011_consent_skipped': consentSkipped(),
    '011b_backchannel_deliveries': backchannelDeliveries(),
    '013_revocation_notices': revocationNotices(dialect),
    '014_id_token_alg': idTokenAlg(),
  }
}

function migrator(db: Db): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(db.dialect) }
  return new Migrator({
    db: db.kysely,
    provider,
    migrationTableName: 'gatehouse_migrations',
    migrationLockTableName: 'gatehouse_migrations_lock',
    // Each feature's migrations are independent of the others' and may be released in any order:
    // a database that already has a later-numbered one still takes an earlier-numbered newcomer.
    allowUnorderedMigrations: true,
  })
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError'
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const result: MigrationResultSet = await migrator(db).migrateToLatest()
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new MigrationError(`migration ${failed} failed: ${(result.error as Error).message ?? String(result.error)}`)
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** True when every known migration has been applied (readiness checks). */
export async function isSchemaCurrent(db: Db): Promise<boolean> {
  const known = await migrator(db).getMigrations()
  return known.every((m) => m.executedAt !== undefined)
}
