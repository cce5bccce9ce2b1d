import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { gatehouseJson, runGatehouse, startGatehouse, type SpawnedServer } from '../testing/spawned.js'

await forEachDialect('gatehouse admin-tokens', (dialect) => {
  let database: TestDatabase
  let dataDir: string
  let settings: Record<string, string>
  let server: SpawnedServer

  before(async () => {
    database = await createTestDatabase(dialect)
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-admin-cli-'))
    settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir }
    server = await startGatehouse(settings)
  })
  after(async () => {
    await server?.stop()
    await database?.drop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const users = (token: string) => fetch(`${server.url}/admin/v1/users`, { headers: { authorization: `Bearer ${token}` } })

  it('creates an admin token shown once, which the running server takes on /admin/v1, and revokes it', async () => {
    const created = await gatehouseJson(
      ['admin-tokens', 'create', '--name', 'Back office', '--scope', 'admin:read', '--expires-in', '3600', '--json'],
      settings,
    )
    const token = created.token as string
    assert.match(token, /^gatehouse_admin_[0-9A-Za-z]{49}$/)
    assert.equal(created.scope, 'admin:read')
    assert.ok(Date.parse(created.expires_at as string) > Date.now())
    assert.equal((await users(token)).status, 200)

    const listed = (await gatehouseJson(['admin-tokens', 'list', '--json'], settings)) as unknown as Record<string, unknown>[]
    const entry = listed.find((t) => t.id === created.id)!
    assert.equal(entry.name, 'Back office')
    assert.equal(entry.revoked_at, null)
    assert.ok(!JSON.stringify(listed).includes(token.slice('gatehouse_admin_'.length)), 'the list never shows a token')

    const line = await runGatehouse(['admin-tokens', 'revoke', '--id', created.id as string], settings)
    assert.equal(line.code, 0, line.stderr)
    assert.match(line.stdout, /^Revoked admin token "Back office"/)
    assert.equal((await users(token)).status, 401)
    const again = await runGatehouse(['admin-tokens', 'revoke', '--id', created.id as string], settings)
    assert.equal(again.code, 1)
    assert.match(again.stderr, /^gatehouse: No admin token that is not revoked has this id\./)
  })

  it('refuses a scope that is not an admin scope, and a lifetime that is not seconds, creating nothing', async () => {
    const before = ((await gatehouseJson(['admin-tokens', 'list', '--json'], settings)) as unknown as unknown[]).length
    const scope = await runGatehouse(['admin-tokens', 'create', '--name', 'X', '--scope', 'admin'], settings)
    assert.equal(scope.code, 1)
    assert.match(scope.stderr, /admin:read or admin:write/)
    const lifetime = await runGatehouse(['admin-tokens', 'create', '--name', 'X', '--scope', 'admin:write', '--expires-in', 'tomorrow'], settings)
    assert.equal(lifetime.code, 2)
    assert.match(lifetime.stderr, /--expires-in/)
    const short = await runGatehouse(['admin-tokens', 'create', '--name', 'X', '--scope', 'admin:write', '--expires-in', '5'], settings)
    assert.equal(short.code, 1)
    assert.equal(((await gatehouseJson(['admin-tokens', 'list', '--json'], settings)) as unknown as unknown[]).length, before)
  })

  it('prints the token once in words without --json', async () => {
    const run = await runGatehouse(['admin-tokens', 'create', '--name', 'Ops', '--scope', 'admin:write'], settings)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^Admin token "Ops" \(admin:write, id [0-9a-f-]{36}\):\n {2}gatehouse_admin_\w+\nIt is shown only once\./)
  })
})
