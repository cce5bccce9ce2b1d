import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { MESSAGES } from '../messages.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { gatehouseJson, PASSWORD, runGatehouse, type Json, type Run } from '../testing/spawned.js'

/** A refusal an operator can read: exit 1, one line naming what was wrong, nothing on stdout. */
function refusal(run: Run): string {
  assert.equal(run.code, 1, `exit 1 expected; stdout: ${run.stdout} stderr: ${run.stderr}`)
  assert.equal(run.stdout, '')
  const lines = run.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, run.stderr)
  return lines[0]!
}

function usageError(run: Run, flag: string): void {
  assert.equal(run.code, 2, run.stderr)
  assert.match(run.stderr, new RegExp(`--${flag}`))
  assert.match(run.stderr, /^Usage: gatehouse /m)
}

await forEachDialect('gatehouse teams and users commands', (dialect) => {
  let database: TestDatabase
  let dataDir: string
  let settings: Record<string, string>
  let adaId: number

  before(async () => {
    database = await createTestDatabase(dialect)
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-teams-cli-'))
    settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir }
    const ada = await gatehouseJson(['users', 'create', '--email', 'ada@example.com', '--name', 'Ada', '--password', PASSWORD], settings)
    adaId = ada.id as number
  })
  after(async () => {
    await database?.drop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('users create makes an unverified user unless --verified', async () => {
    const plain = await gatehouseJson(['users', 'create', '--email', 'lin@example.com', '--name', 'Lin', '--password', PASSWORD], settings)
    assert.equal(plain.is_verified, false)
    const vouched = await gatehouseJson(['users', 'create', '--email', 'grace@example.com', '--name', 'Grace', '--password', PASSWORD, '--verified'], settings)
    assert.equal(vouched.is_verified, true)
    const line = await runGatehouse(['users', 'create', '--email', 'mo@example.com', '--name', 'Mo', '--password', PASSWORD], settings)
    assert.match(line.stdout, /^Created unverified user mo@example\.com/)
  })

  it('teams create makes the owner its owner and refuses a name taken or an unknown owner, naming it', async () => {
    const team = await gatehouseJson(['teams', 'create', '--name', '  Engines ', '--owner', 'ADA@example.com'], settings)
    assert.deepEqual(team, { id: team.id, name: 'Engines', owner: { id: adaId, email: 'ada@example.com' } })
    assert.ok(Number.isSafeInteger(team.id))

    const taken = await runGatehouse(['teams', 'create', '--name', 'Engines', '--owner', 'ada@example.com'], settings)
    assert.equal(refusal(taken), `gatehouse: ${MESSAGES.team_name_taken.replace(/\.$/, '')}: "Engines".`)
    const stranger = await runGatehouse(['teams', 'create', '--name', 'Looms', '--owner', 'nobody@example.com'], settings)
    assert.equal(refusal(stranger), `gatehouse: ${MESSAGES.user_not_found.replace(/\.$/, '')}: "nobody@example.com".`)
    const blank = await runGatehouse(['teams', 'create', '--name', '\u200B ', '--owner', 'ada@example.com'], settings)
    assert.equal(refusal(blank), `gatehouse: ${MESSAGES.team_name_required}`)
    usageError(await runGatehouse(['teams', 'create', '--name', 'Looms'], settings), 'owner')
  })

  it('teams list shows every team with its number of members', async () => {
    await gatehouseJson(['teams', 'create', '--name', 'Compilers', '--owner', 'ada@example.com'], settings)
    await gatehouseJson(['teams', 'add-member', '--team', 'Compilers', '--email', 'lin@example.com'], settings)
    const teams = (await gatehouseJson(['teams', 'list'], settings)) as unknown as Json[]
    assert.deepEqual(
      teams.map((t) => [t.name, t.members]),
      [
        ['Compilers', 2],
        ['Engines', 1],
      ],
    )
    assert.ok(teams.every((t) => !Number.isNaN(Date.parse(t.created_at as string))))
    const text = await runGatehouse(['teams', 'list'], settings)
    assert.match(text.stdout, /^\d+ {2}Compilers {2}\(2 members\)$/m)
  })

  it('teams members takes the team by name or by id, and names the value it refused', async () => {
    const byName = await gatehouseJson(['teams', 'members', '--team', 'Compilers'], settings)
    const team = byName.team as { id: number; name: string }
    assert.equal(team.name, 'Compilers')
    assert.deepEqual(
      (byName.members as Json[]).map((m) => [m.email, m.role, m.is_verified, m.is_disabled]),
      [
        ['ada@example.com', 'owner', false, false],
        ['lin@example.com', 'member', false, false],
      ],
    )
    assert.deepEqual(await gatehouseJson(['teams', 'members', '--team', String(team.id)], settings), byName)

    const unknown = await runGatehouse(['teams', 'members', '--team', 'Nope'], settings)
    assert.equal(refusal(unknown), `gatehouse: ${MESSAGES.team_id_or_name_not_found.replace(/\.$/, '')}: "Nope".`)
    const unknownId = await runGatehouse(['teams', 'members', '--team', '999999', '--json'], settings)
    assert.match(refusal(unknownId), /"999999"/)
    usageError(await runGatehouse(['teams', 'members'], settings), 'team')
  })
})
