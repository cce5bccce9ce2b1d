import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, it } from 'node:test'
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, SignJWT } from 'jose'
import { Migrator, sql, type Kysely, type Migration } from 'kysely'
import { hashPassword } from '../accounts/passwords.js'
import { deriveKeys } from '../crypto/master-key.js'
import { hashSecret, hmac, randomSecret } from '../crypto/random.js'
import { seal } from '../crypto/secret-box.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { REDIRECT } from '../testing/fixtures.js'
import { logIn, HttpClient } from '../testing/http-client.js'
import { authorizePath, pkcePair, redeemCode, redirectOf, refreshExchange } from '../testing/oauth.js'
import { meStatus } from '../testing/portal.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { openDatabase, type Db, type DialectName } from './connection.js'
import { migrateToLatest } from './migrate.js'
import { accounts } from './migrations/001_accounts.js'
import { oauth } from './migrations/002_oauth.js'
import { api } from './migrations/003_api.js'
import { openid } from './migrations/004_openid.js'
import { redirectUris } from './migrations/005_redirect_uris.js'
import { apiUsage } from './migrations/006_api_usage.js'
import { resources } from './migrations/007_resources.js'
import { registration } from './migrations/008_registration.js'
import { portal } from './migrations/009_portal.js'

const SECRET = 'upgrade-test-secret-upgrade-test-secret-01'
const PASSWORD = 'correct horse battery'

/** The migrations of the first release (23 November), under the names it recorded. */
function firstRelease(dialect: DialectName): Record<string, Migration> {
  return { '001_accounts': accounts(dialect), '002_oauth': oauth(), '003_api': api(dialect) }
}

/**
 * A later build (1 December, before consent decisions were bound to the
 * request shown), under the names it recorded: it applied what it lacked in
 * the order of the names, 004 before 008, and rebuilt SQLite's clients table (009b).
 */
function laterBuild(dialect: DialectName): Record<string, Migration> {
  return {
    ...firstRelease(dialect),
    '004_redirect_uris': redirectUris(),
    '006_portal': portal(),
    '007_api_usage': apiUsage(),
    '008_openid': openid(),
    '009_resources': resources(),
    '009b_registration': registration(dialect),
  }
}

/** Brings the schema to a release as that release's own migrator did. */
async function migrateAsRelease(db: Db, migrations: Record<string, Migration>): Promise<void> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'gatehouse_migrations',
    migrationLockTableName: 'gatehouse_migrations_lock',
    allowUnorderedMigrations: true,
  })
  const { error } = await migrator.migrateToLatest()
  if (error) throw error instanceof Error ? error : new Error(String(error))
}

interface Seeded {
  clientId: string
  clientSecret: string
  accessToken: { jti: string; sign(issuer: string): Promise<string> }
  refreshToken: string
}

/** Ada, her team, a confidential client, her consent, a grant with its access and refresh tokens and the key that signed the token: the first release's tables, in plain SQL. */
async function seedFirstRelease(db: Kysely<unknown>): Promise<Seeded> {
  const keys = deriveKeys(SECRET)
  const now = Date.now()
  const user = await sql<{ id: number }>`
    insert into users (email, email_normalized, name, password_hash, is_verified, is_disabled, created_at, updated_at)
    values ('ada@example.com', 'ada@example.com', 'Ada', ${await hashPassword(PASSWORD)}, 1, 0, ${now}, ${now}) returning id`.execute(db)
  const userId = Number(user.rows[0]!.id)
  const team = await sql<{ id: number }>`insert into teams (name, created_at, updated_at) values ('Engines', ${now}, ${now}) returning id`.execute(db)
  const teamId = Number(team.rows[0]!.id)
  await sql`insert into memberships (team_id, user_id, role, created_at) values (${teamId}, ${userId}, 'owner', ${now})`.execute(db)

  const clientId = randomSecret(16)
  const clientSecret = randomSecret(32)
  await sql`
    insert into clients (id, name, redirect_uris, is_confidential, is_first_party, secret_hash, secret_encrypted, owner_user_id, team_id, created_at, updated_at)
    values (${clientId}, 'Dashboard', ${JSON.stringify([REDIRECT])}, 1, 0, ${hmac(keys.clientSecret, clientSecret)}, ${seal(keys.encryption, clientSecret)},
            ${userId}, ${teamId}, ${now}, ${now})`.execute(db)
  await sql`insert into consents (user_id, client_id, team_id, scopes, created_at, updated_at) values (${userId}, ${clientId}, ${teamId}, 'read', ${now}, ${now})`.execute(
    db,
  )

  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  await sql`
    insert into signing_keys (kid, algorithm, public_jwk, private_key_encrypted, created_at)
    values (${kid}, 'RS256', ${JSON.stringify({ ...jwk, kid, alg: 'RS256', use: 'sig' })}, ${seal(keys.encryption, await exportPKCS8(privateKey))}, ${now})`.execute(
    db,
  )

  const grantId = randomUUID()
  const jti = randomSecret(24)
  const refreshToken = randomSecret(32)
  const expiresAt = now + 3600_000
  await sql`insert into grants (id, client_id, user_id, team_id, scopes, created_at) values (${grantId}, ${clientId}, ${userId}, ${teamId}, 'read', ${now})`.execute(
    db,
  )
  await sql`
    insert into access_tokens (jti, grant_id, client_id, user_id, team_id, scopes, created_at, expires_at)
    values (${jti}, ${grantId}, ${clientId}, ${userId}, ${teamId}, 'read', ${now}, ${expiresAt})`.execute(db)
  await sql`
    insert into refresh_tokens (token_hash, grant_id, access_token_jti, client_id, created_at, expires_at)
    values (${hashSecret(refreshToken)}, ${grantId}, ${jti}, ${clientId}, ${now}, ${now + 86_400_000})`.execute(db)

  // The access token as the first release signed it (RFC 9068 §2.2); its issuer is the server's URL, known once it listens.
  const sign = (issuer: string) =>
    new SignJWT({ client_id: clientId, scopes: ['read'], scope: 'read', team_id: teamId })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
      .setIssuer(issuer)
      .setAudience(clientId)
      .setSubject(String(userId))
      .setJti(jti)
      .setIssuedAt(Math.floor(now / 1000))
      .setNotBefore(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(privateKey)
  return { clientId, clientSecret, accessToken: { jti, sign }, refreshToken }
}

await forEachDialect('upgrading a database of an older release', (dialect) => {
  let database: TestDatabase
  let seeded: Seeded
  let applied: string[]
  let server: TestServer

  before(async () => {
    database = await createTestDatabase(dialect)
    const db = await openDatabase(database.url)
    try {
      await migrateAsRelease(db, firstRelease(dialect))
      seeded = await seedFirstRelease(db.kysely as Kysely<unknown>)
      await migrateAsRelease(db, laterBuild(dialect))
      applied = await migrateToLatest(db)
    } finally {
      await db.close()
    }
    server = await startTestServer(dialect, { databaseUrl: database.url, secret: SECRET })
  })
  after(async () => {
    await server?.stop()
    await database?.drop()
  })

  it('applies only what the database lacked', () => {
    assert.deepEqual(applied, [
      '010_authorization_requests',
      '011_throttle_counters',
      '012_consent_skipped',
      '013_backchannel_deliveries',
      '014_revocation_notices',
      '015_id_token_alg',
      '016_mail',
      '017_sessions_client',
      '018_invitations',
      '019_device_authorizations',
      '020_service_clients',
      '021_admin_api',
      '022_two_factor',
      '023_scope_descriptions',
      '024_webhooks',
      '025_delegation',
      '026_passkey_challenges',
      '027_revocation_notice_time',
    ])
  })

  it('records what the earlier build applied under the current names, in the order of the names, and has nothing left to apply', async () => {
    const db = await openDatabase(database.url)
    try {
      const recorded = await sql<{ name: string; timestamp: string }>`select name, timestamp from gatehouse_migrations`.execute(db.kysely)
      const byTime = recorded.rows.sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.name.localeCompare(b.name)).map((r) => r.name)
      assert.equal(byTime.length, 27)
      assert.deepEqual(byTime, [...byTime].sort())
      assert.ok(
        byTime.every((name) => /^\d{3}_[a-z_]+$/.test(name)),
        byTime.join(' '),
      )
      assert.deepEqual(await migrateToLatest(db), [])
    } finally {
      await db.close()
    }
  })

  it('still reads /api/v2/me with an access token issued before the upgrade (before its refresh token is used, which ends it)', async () => {
    const token = await seeded.accessToken.sign(server.url)
    const response = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${token}` } })
    assert.equal(response.status, 200)
    assert.equal(((await response.json()) as { email?: string }).email, 'ada@example.com')
  })

  it('keeps the client through the rebuild of its table: it still authenticates, and its refresh token from before refreshes', async () => {
    const { response, body } = await refreshExchange(server, { id: seeded.clientId, secret: seeded.clientSecret }, seeded.refreshToken)
    assert.equal(response.status, 200, JSON.stringify(body))
    assert.equal(body.scope, 'read')
    assert.equal(await meStatus(server, body.access_token as string), 200)
  })

  it('remembers the consent given before: the authorization request goes straight back with a code the client redeems', async () => {
    const browser = new HttpClient(server.url)
    assert.equal((await logIn(browser, 'ada@example.com', PASSWORD)).status, 303)
    const pkce = pkcePair()
    const response = await browser.get(
      authorizePath({
        response_type: 'code',
        client_id: seeded.clientId,
        redirect_uri: REDIRECT,
        scope: 'read',
        state: 'st',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
    )
    const back = redirectOf(response)
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT)
    const code = back.searchParams.get('code')
    assert.ok(code, `no code in ${back.href}`)
    const tokens = await redeemCode(server, { id: seeded.clientId, secret: seeded.clientSecret }, code, { code_verifier: pkce.verifier })
    assert.equal(await meStatus(server, tokens.access_token), 200)
  })
})
