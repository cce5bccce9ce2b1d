import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely'
import type { Db, DialectName } from './connection.js'
import { accounts } from './migrations/001_accounts.js'
import { oauth } from './migrations/002_oauth.js'
import { api } from './migrations/003_api.js'
import { openid } from './migrations/004_openid.js'
import { redirectUris } from './migrations/005_redirect_uris.js'
import { apiUsage } from './migrations/006_api_usage.js'
import { resources } from './migrations/007_resources.js'
import { registration } from './migrations/008_registration.js'
import { portal } from './migrations/009_portal.js'
import { authorizationRequests } from './migrations/010_authorization_requests.js'
import { throttleCounters } from './migrations/011_throttle_counters.js'
import { consentSkipped } from './migrations/012_consent_skipped.js'
import { backchannelDeliveries } from './migrations/013_backchannel_deliveries.js'
import { revocationNotices } from './migrations/014_revocation_notices.js'
import { idTokenAlg } from './migrations/015_id_token_alg.js'
import { mail } from './migrations/016_mail.js'
import { sessionsClient } from './migrations/017_sessions_client.js'
import { invitations } from './migrations/018_invitations.js'
import { deviceAuthorizations } from './migrations/019_device_authorizations.js'
import { serviceClients } from './migrations/020_service_clients.js'
import { adminApi } from './migrations/021_admin_api.js'
import { twoFactor } from './migrations/022_two_factor.js'
import { scopeDescriptions } from './migrations/023_scope_descriptions.js'
import { webhooks } from './migrations/024_webhooks.js'
import { delegation } from './migrations/025_delegation.js'
import { passkeyChallenges } from './migrations/026_passkey_challenges.js'
import { revocationNoticeTime } from './migrations/027_revocation_notice_time.js'

// Migrations run in the order of their names: three digits, one more than the
// last migration's, then what it does. The next one is 028_…; it must not
// share a number, and a migration once released is never renamed or reordered.
function migrationsFor(dialect: DialectName): Record<string, Migration> {
  return {
    '001_accounts': accounts(dialect),
    '002_oauth': oauth(),
    '003_api': api(dialect),
    '004_openid': openid(),
    '005_redirect_uris': redirectUris(),
    '006_api_usage': apiUsage(),
    '007_resources': resources(),
    '008_registration': registration(dialect),
    '009_portal': portal(),
    '010_authorization_requests': authorizationRequests(),
    '011_throttle_counters': throttleCounters(),
    '012_consent_skipped': consentSkipped(),
    '013_backchannel_deliveries': backchannelDeliveries(),
    '014_revocation_notices': revocationNotices(dialect),
    '015_id_token_alg': idTokenAlg(),
    '016_mail': mail(),
    '017_sessions_client': sessionsClient(),
    '018_invitations': invitations(),
    '019_device_authorizations': deviceAuthorizations(),
    '020_service_clients': serviceClients(),
    '021_admin_api': adminApi(),
    '022_two_factor': twoFactor(),
    '023_scope_descriptions': scopeDescriptions(),
    '024_webhooks': webhooks(),
    '025_delegation': delegation(dialect),
    '026_passkey_challenges': passkeyChallenges(),
    '027_revocation_notice_time': revocationNoticeTime(dialect),
  }
}

const MIGRATION_TABLE = 'gatehouse_migrations'

/**
 * The names earlier builds recorded, numbered per piece of work, and the
 * names the same migrations have now. The new numbers follow the order in
 * which the migrations were released, so what any release had applied is the
 * start of the list. Databases installed at different times ran some of them
 * the other way round (a fresh install in the order of the old names), and
 * those pairs commute: old 004 rewrites rows of clients and adds activity
 * rows while 008 only adds columns with defaults and a table of its own; 006,
 * 007, 004b and 004c only create tables of their own (004c also drops
 * login_failures, which no other migration touches); and SQLite's rebuild of
 * clients in 009b keeps the references other tables hold to it by name.
 */
const EARLIER_NAMES: Record<string, string> = {
  '008_openid': '004_openid',
  '004_redirect_uris': '005_redirect_uris',
  '007_api_usage': '006_api_usage',
  '009_resources': '007_resources',
  '009b_registration': '008_registration',
  '006_portal': '009_portal',
  '004b_authorization_requests': '010_authorization_requests',
  '004c_throttle_counters': '011_throttle_counters',
  '011_consent_skipped': '012_consent_skipped',
  '011b_backchannel_deliveries': '013_backchannel_deliveries',
  '013_revocation_notices': '014_revocation_notices',
}

type MigrationRecords = Record<typeof MIGRATION_TABLE, { name: string; timestamp: string }>

/**
 * Records migrations applied under their earlier names under their current
 * ones, in one transaction; does nothing once done. The migrator reads the
 * applied ones in the order of their times and wants them in the order of
 * their names: where a database ran two the other way round, the later name
 * takes the earlier one's time.
 */
async function recordCurrentNames(db: Db): Promise<void> {
  const tables = await db.kysely.introspection.getTables()
  if (!tables.some((t) => t.name === MIGRATION_TABLE)) return
  await db.kysely
    .withTables<MigrationRecords>()
    .transaction()
    .execute(async (trx) => {
      let renamed = 0n
      for (const [earlier, current] of Object.entries(EARLIER_NAMES)) {
        const result = await trx.updateTable(MIGRATION_TABLE).set({ name: current }).where('name', '=', earlier).executeTakeFirst()
        renamed += result.numUpdatedRows
      }
      if (renamed === 0n) return
      const applied = await trx.selectFrom(MIGRATION_TABLE).select(['name', 'timestamp']).orderBy('name').execute()
      let latest = ''
      for (const { name, timestamp } of applied) {
        if (timestamp < latest) await trx.updateTable(MIGRATION_TABLE).set({ timestamp: latest }).where('name', '=', name).execute()
        else latest = timestamp
      }
    })
}

function migrator(db: Db): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(db.dialect) }
  return new Migrator({
    db: db.kysely,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: 'gatehouse_migrations_lock',
  })
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError'
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  await recordCurrentNames(db)
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
