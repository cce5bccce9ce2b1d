import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createUser } from '../accounts/users.js'
import { deriveKeys } from '../crypto/master-key.js'
import { hashSecret } from '../crypto/random.js'
import { insertAuthorizationCode } from '../db/authorization-codes.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { insertTeam, upsertMembership } from '../db/teams.js'
import { MESSAGES } from '../messages.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { findClient, revealClientSecret, verifyClientSecret } from '../clients/clients.js'

const CLI = fileURLToPath(new URL('./index.js', import.meta.url))
const SECRET = 'cli-test-secret-cli-test-secret-0123456'
const OWNER = 'ada@example.com'

interface Run {
  code: number
  stdout: string
  stderr: string
}

await forEachDialect('gatehouse clients / keys / tokens commands', (dialect) => {
  let database: TestDatabase
  let dataDir: string
  let db: Db
  let userId: number
  let compilersId: number

  function gatehouse(...args: string[]): Promise<Run> {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_SECRET: SECRET }
    for (const name of ['PORT', 'HOST', 'REDIS_URL', 'GATEHOUSE_ISSUER', 'GATEHOUSE_ACCESS_TOKEN_TTL']) delete env[name]
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env, timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
      })
    })
  }

  async function json(...args: string[]): Promise<Record<string, unknown>> {
    const run = await gatehouse(...args, '--json')
    assert.equal(run.code, 0, run.stderr)
    return JSON.parse(run.stdout) as Record<string, unknown>
  }

  async function clientCount(): Promise<number> {
    return Number(
      (
        await db.kysely
          .selectFrom('clients')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
  }

  before(async () => {
    database = await createTestDatabase(dialect)
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'))
    db = await openDatabase(database.url)
    await migrateToLatest(db)
    const { user } = await createUser(db, { email: OWNER, name: 'Ada', password: 'correct horse battery', teamName: 'Engines' }, Date.now())
    userId = user.id
    compilersId = (await insertTeam(db.kysely, 'Compilers', Date.now())).id
    await upsertMembership(db.kysely, compilersId, userId, 'member', Date.now())
  })
  after(async () => {
    await db.close()
    await database.drop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('clients create --json prints the client with its secret, kept encrypted and checked against a hash under GATEHOUSE_SECRET', async () => {
    const created = await json('clients', 'create', '--owner', OWNER, '--name', 'Example App', '--redirect-uri', 'https://example.com/callback')
    assert.deepEqual(Object.keys(created).slice(0, 4), ['client_id', 'client_secret', 'name', 'redirect_uris'])
    assert.equal(created.name, 'Example App')
    assert.deepEqual(created.redirect_uris, ['https://example.com/callback'])
    assert.equal(created.confidential, true)
    assert.equal(created.first_party, false)
    const id = String(created.client_id)
    const secret = String(created.client_secret)
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/)

    const keys = deriveKeys(SECRET)
    assert.equal((await verifyClientSecret(db, keys, id, secret))?.id, id)
    assert.equal(await verifyClientSecret(db, keys, id, `${secret}x`), undefined)
    assert.equal(
      await verifyClientSecret(db, deriveKeys('another-secret-another-secret-012345'), id, secret),
      undefined,
      'the hash is keyed by GATEHOUSE_SECRET',
    )
    assert.equal(await revealClientSecret(db, keys, id), secret)
    const row = await db.kysely.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    assert.ok(!JSON.stringify(row).includes(secret), 'the secret in clear in the database')
    assert.notEqual(row.secret_hash, hashSecret(secret), 'an unkeyed hash')
  })

  it('clients create --public prints no client_secret; --first-party, --team and several --redirect-uri are kept', async () => {
    const [publicClient, firstParty] = await Promise.all([
      json('clients', 'create', '--owner', OWNER, '--name', 'Native Tool', '--redirect-uri', 'http://127.0.0.1/callback', '--public'),
      json(
        'clients',
        'create',
        '--owner',
        OWNER,
        '--name',
        'Our App',
        '--first-party',
        '--team',
        'Compilers',
        '--redirect-uri',
        'https://a.example.com/cb',
        '--redirect-uri',
        'http://[::1]:8080/cb',
      ),
    ])
    assert.equal('client_secret' in publicClient, false)
    assert.equal(publicClient.confidential, false)
    assert.equal((await findClient(db, String(publicClient.client_id)))?.isConfidential, false)

    assert.equal(firstParty.first_party, true)
    assert.equal(firstParty.team_id, compilersId)
    assert.deepEqual(firstParty.redirect_uris, ['https://a.example.com/cb', 'http://[::1]:8080/cb'])
    const stored = await findClient(db, String(firstParty.client_id))
    assert.equal(stored?.isFirstParty, true)
    assert.deepEqual(stored?.redirectUris, ['https://a.example.com/cb', 'http://[::1]:8080/cb'])
  })

  it('clients create refuses a bad redirect URL with a clear message and a non-zero exit, and creates nothing', async () => {
    const before = await clientCount()
    // The other refusals are the same code path, proven in redirect-uris.test.ts.
    const cases = [
      ['http://example.com/callback', MESSAGES.redirect_uri_not_https],
      ['https://example.com/callback#x', MESSAGES.redirect_uri_fragment],
      // RFC 9700 §4.1.3: a URL that can be read two ways is refused at registration.
      ['https://app.example/c\r\nSet-Cookie: x=1', MESSAGES.redirect_uri_unsafe_characters],
      ['https://ap\tp.example/cb', MESSAGES.redirect_uri_unsafe_characters],
      ['https:///cb', MESSAGES.redirect_uri_no_host],
      ['https://App.example/cb', MESSAGES.redirect_uri_not_canonical],
    ] as const
    const [missing, ...runs] = await Promise.all([
      gatehouse('clients', 'create', '--owner', OWNER, '--name', 'Bad'),
      ...cases.map(([uri]) =>
        gatehouse('clients', 'create', '--owner', OWNER, '--name', 'Bad', '--redirect-uri', 'https://example.com/ok', '--redirect-uri', uri, '--json'),
      ),
    ])
    for (const [i, [uri, message]] of cases.entries()) {
      const run = runs[i]!
      assert.equal(run.code, 1, uri)
      assert.equal(run.stdout, '', uri)
      assert.equal(run.stderr.trim(), `gatehouse: ${message}`, uri)
    }
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /--redirect-uri is required/)
    assert.equal(await clientCount(), before)
  })

  it('clients create --help prints every flag of the command', async () => {
    const run = await gatehouse('clients', 'create', '--help')
    assert.equal(run.code, 0, run.stderr)
    for (const flag of [
      '--owner',
      '--name',
      '--redirect-uri',
      '--team',
      '--first-party',
      '--skip-consent',
      '--public',
      '--post-logout-redirect-uri',
      '--backchannel-logout-uri',
      '--json',
    ]) {
      assert.match(run.stdout, new RegExp(`^  ${flag}\\b`, 'm'), flag)
    }
  })

  it('clients create keeps --post-logout-redirect-uri (repeatable), --backchannel-logout-uri and --skip-consent, and checks the URLs as redirect URLs', async () => {
    const created = await json(
      'clients',
      'create',
      '--owner',
      OWNER,
      '--name',
      'Our Web App',
      '--first-party',
      '--skip-consent',
      '--redirect-uri',
      'https://web.example.com/cb',
      '--post-logout-redirect-uri',
      'https://web.example.com/bye',
      '--post-logout-redirect-uri',
      'http://127.0.0.1:9000/bye',
      '--backchannel-logout-uri',
      'https://web.example.com/backchannel',
    )
    assert.deepEqual(created.post_logout_redirect_uris, ['https://web.example.com/bye', 'http://127.0.0.1:9000/bye'])
    assert.equal(created.backchannel_logout_uri, 'https://web.example.com/backchannel')
    assert.equal(created.skip_consent, true)
    const stored = await findClient(db, String(created.client_id))
    assert.deepEqual(stored?.postLogoutRedirectUris, ['https://web.example.com/bye', 'http://127.0.0.1:9000/bye'])
    assert.equal(stored?.skipConsent, true)

    const before = await clientCount()
    const bad = await gatehouse(
      'clients',
      'create',
      '--owner',
      OWNER,
      '--name',
      'Bad',
      '--redirect-uri',
      'https://ok.example/cb',
      '--post-logout-redirect-uri',
      'http://evil.example/bye',
    )
    assert.equal(bad.code, 1)
    assert.equal(bad.stderr.trim(), `gatehouse: ${MESSAGES.redirect_uri_not_https}`)
    const thirdParty = await gatehouse('clients', 'create', '--owner', OWNER, '--name', 'Bad', '--redirect-uri', 'https://ok.example/cb', '--skip-consent')
    assert.equal(thirdParty.code, 1)
    assert.equal(thirdParty.stderr.trim(), `gatehouse: ${MESSAGES.skip_consent_first_party}`)
    assert.equal(await clientCount(), before)
  })

  it('clients create refuses a name with a bidirectional control character, and creates nothing', async () => {
    const before = await clientCount()
    const run = await gatehouse('clients', 'create', '--owner', OWNER, '--name', 'Pay\u202Elaypal', '--redirect-uri', 'https://example.com/cb', '--json')
    assert.equal(run.code, 1)
    assert.equal(run.stdout, '')
    assert.equal(run.stderr.trim(), `gatehouse: ${MESSAGES.client_name_control_characters}`)
    assert.equal(await clientCount(), before)
  })

  it("clients list --json lists the owner's clients without their secrets", async () => {
    const listed = await gatehouse('clients', 'list', '--owner', OWNER, '--json')
    assert.equal(listed.code, 0, listed.stderr)
    const clients = JSON.parse(listed.stdout) as Record<string, unknown>[]
    assert.deepEqual(clients.map((c) => c.name).sort(), ['Example App', 'Native Tool', 'Our App', 'Our Web App'])
    for (const client of clients) {
      assert.equal('client_secret' in client, false)
      assert.ok(client.client_id && Array.isArray(client.redirect_uris))
    }
  })

  it('clients delete removes the client with its codes; an unknown id exits non-zero', async () => {
    const created = await json('clients', 'create', '--owner', OWNER, '--name', 'Short Lived', '--redirect-uri', 'https://example.com/cb')
    const id = String(created.client_id)
    const now = Date.now()
    await insertAuthorizationCode(db.kysely, {
      codeHash: 'h',
      clientId: id,
      userId,
      teamId: compilersId,
      redirectUri: 'https://example.com/cb',
      scopes: '',
      codeChallenge: null,
      grantId: 'g',
      createdAt: now,
      expiresAt: now + 600_000,
    })
    assert.deepEqual(await json('clients', 'delete', '--client-id', id), { client_id: id, deleted: true })
    assert.equal(await findClient(db, id), undefined)
    assert.equal((await db.kysely.selectFrom('authorization_codes').selectAll().where('client_id', '=', id).execute()).length, 0)
    const again = await gatehouse('clients', 'delete', '--client-id', id)
    assert.equal(again.code, 1)
    assert.equal(again.stderr.trim(), `gatehouse: ${MESSAGES.client_not_found.replace(/\.$/, '')}: "${id}".`)
  })

  it('clients token-exchange --allow and --deny change whether a confidential client may exchange tokens; public clients and bad flags are refused', async () => {
    const created = await json('clients', 'create', '--owner', OWNER, '--name', 'Agent', '--redirect-uri', 'https://example.com/cb')
    const id = String(created.client_id)
    assert.equal(created.token_exchange, false)
    const allowed = await json('clients', 'token-exchange', '--client-id', id, '--allow')
    assert.equal(allowed.token_exchange, true)
    assert.equal('client_secret' in allowed, false)
    assert.equal((await findClient(db, id))?.tokenExchange, true)
    const text = await gatehouse('clients', 'token-exchange', '--client-id', id, '--deny')
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /may no longer exchange tokens/)
    assert.equal((await findClient(db, id))?.tokenExchange, false)

    for (const flags of [[], ['--allow', '--deny']]) {
      const run = await gatehouse('clients', 'token-exchange', '--client-id', id, ...flags)
      assert.notEqual(run.code, 0)
      assert.match(run.stderr, /--allow and --deny/)
    }
    const publicClient = await json('clients', 'create', '--owner', OWNER, '--name', 'Tool', '--redirect-uri', 'http://127.0.0.1/cb', '--public')
    const publicId = String(publicClient.client_id)
    const refused = await gatehouse('clients', 'token-exchange', '--client-id', publicId, '--allow')
    assert.equal(refused.code, 1)
    assert.equal(refused.stderr.trim(), `gatehouse: ${MESSAGES.token_exchange_public}`)
    assert.equal((await findClient(db, publicId))?.tokenExchange, false)
    assert.equal((await gatehouse('clients', 'token-exchange', '--client-id', 'no-such-client', '--allow')).code, 1)

    for (const client of [id, publicId]) assert.equal((await gatehouse('clients', 'delete', '--client-id', client)).code, 0)
  })

  it('keys rotate --json makes a new signing key and keeps the old one, retired, for the tokens it signed', async () => {
    const before = await db.kysely.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).execute()
    assert.equal(before.length, 1, 'the commands before made the first key')
    const { kid } = await json('keys', 'rotate')
    assert.equal(typeof kid, 'string')
    assert.notEqual(kid, before[0]!.kid)
    const keys = await db.kysely.selectFrom('signing_keys').select(['kid', 'retired_at', 'private_key_encrypted']).execute()
    assert.deepEqual(
      keys.filter((k) => k.retired_at === null).map((k) => k.kid),
      [kid],
    )
    assert.ok(
      keys.some((k) => k.kid === before[0]!.kid && k.retired_at !== null),
      'the previous key is retired, not deleted',
    )
    for (const key of keys) assert.doesNotMatch(key.private_key_encrypted, /PRIVATE KEY/)
  })

  it('tokens prune --json deletes expired codes and prints how many of each kind it deleted', async () => {
    const clientId = (await db.kysely.selectFrom('clients').select('id').where('name', '=', 'Example App').executeTakeFirstOrThrow()).id
    const now = Date.now()
    const code = (hash: string, expiresAt: number) =>
      insertAuthorizationCode(db.kysely, {
        codeHash: hash,
        clientId,
        userId,
        teamId: compilersId,
        redirectUri: 'https://example.com/cb',
        scopes: '',
        codeChallenge: null,
        grantId: hash,
        createdAt: now - 700_000,
        expiresAt,
      })
    await code('expired-1', now - 100_000)
    await code('expired-2', now - 1)
    await code('live', now + 500_000)
    const { deleted } = (await json('tokens', 'prune')) as { deleted: Record<string, number> }
    for (const kind of ['authorization_codes', 'access_tokens', 'refresh_tokens', 'grants', 'signing_keys']) assert.equal(typeof deleted[kind], 'number', kind)
    assert.equal(deleted.authorization_codes, 2)
    assert.equal(deleted.access_tokens, 0)
    const left = await db.kysely.selectFrom('authorization_codes').select('code_hash').where('client_id', '=', clientId).execute()
    assert.deepEqual(
      left.map((r) => r.code_hash),
      ['live'],
    )
  })
})
