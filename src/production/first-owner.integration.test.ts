import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { SANDBOX_EMAIL } from '../accounts/sandbox.js'
import { openDatabase } from '../db/connection.js'
import { countUsers } from '../db/users.js'
import { gatehouseJson, logInAt, PASSWORD, startGatehouse, type SpawnedServer } from '../testing/spawned.js'

describe('gatehouse serve with NODE_ENV=production on an empty database', () => {
  let dataDir: string
  let settings: Record<string, string>
  let server: SpawnedServer | undefined

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-first-owner-'))
    settings = { NODE_ENV: 'production', GATEHOUSE_DATA_DIR: dataDir }
  })

  after(
    async () => {
      await server?.kill()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
    { timeout: 30_000 },
  )

  it('creates no sandbox account and says how to create the first owner', { timeout: 60_000 }, async () => {
    server = await startGatehouse(settings)
    assert.doesNotMatch(server.log(), /password:|sandbox/i)
    assert.match(server.log(), /^ {2}npx gatehouse users create --email E --name N --password P --team T --verified$/m)
    const db = await openDatabase(`sqlite:${join(dataDir, 'gatehouse.sqlite')}`)
    try {
      assert.equal(await countUsers(db.kysely), 0)
    } finally {
      await db.close()
    }
    const refused = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: SANDBOX_EMAIL, password: 'anything' }).toString(),
    })
    await refused.arrayBuffer()
    assert.notEqual(refused.status, 303)
    await server.stop()
  })

  it('the owner created with the command line logs in, and a restart says nothing more', { timeout: 60_000 }, async () => {
    const owner = await gatehouseJson(
      ['users', 'create', '--email', 'owner@example.com', '--name', 'Owner', '--password', PASSWORD, '--team', 'Operations', '--verified'],
      settings,
    )
    assert.equal(owner.is_verified, true)
    assert.equal((owner.team as { name: string }).name, 'Operations')
    server = await startGatehouse(settings)
    assert.doesNotMatch(server.log(), /No account exists yet|password:/)
    await logInAt(server.url, 'owner@example.com')
    await server.stop()
  })
})
