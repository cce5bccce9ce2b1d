import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { openDatabase } from '../db/connection.js'
import { findUserByEmail } from '../db/users.js'
import { MESSAGES } from '../messages.js'
import { createPersonalAccessToken, personalAccessTokensOf } from '../tokens/personal-access-tokens.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { freePort } from '../testing/ports.js'

const CLI = fileURLToPath(new URL('./index.js', import.meta.url))
const PASSWORD = 'correct horse battery'
const RUN_TIMEOUT_MS = 30_000

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** The environment of an operator who set only what `settings` holds. */
function cliEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of ['PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'GATEHOUSE_ISSUER', 'GATEHOUSE_DATA_DIR', 'GATEHOUSE_SECRET']) delete env[name]
  // Servers run side by side in the tests: the management listener's fixed default port would clash.
  return { ...env, GATEHOUSE_MANAGEMENT_PORT: 'off', ...settings }
}

function collect(child: ChildProcess, what: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    // `serve` that starts by mistake would run forever: end it and fail.
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${what} still running after ${RUN_TIMEOUT_MS} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`))
    }, RUN_TIMEOUT_MS)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

function gatehouse(args: string[], settings: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(settings), stdio: ['ignore', 'pipe', 'pipe'] })
  return collect(child, `gatehouse ${args.join(' ')}`)
}

/** Starts `gatehouse serve`, stops it with SIGTERM once it answers, and returns all it printed. */
async function serveOnce(settings: Record<string, string>): Promise<Run> {
  const port = await freePort()
  const child = spawn(process.execPath, [CLI, 'serve'], { env: cliEnv({ ...settings, PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] })
  const run = collect(child, 'gatehouse serve')
  let seen = ''
  let stopping = false
  child.stdout!.on('data', (chunk: Buffer) => {
    seen += chunk.toString()
    if (stopping || !/^Gatehouse is running at /m.test(seen)) return
    stopping = true
    // An answer means the start-up code, which prints the sandbox login and
    // installs the SIGTERM handler, has finished; a signal any earlier would
    // meet the default handler.
    fetch(`http://127.0.0.1:${port}/healthz`)
      .then((response) => response.arrayBuffer())
      .finally(() => child.kill('SIGTERM'))
      .catch(() => {})
  })
  return run
}

function parseJson(run: Run): Record<string, unknown> {
  assert.equal(run.code, 0, `exit code 0 expected; stderr: ${run.stderr}`)
  assert.equal(run.stderr, '')
  assert.ok(run.stdout.endsWith('\n') && run.stdout.indexOf('\n') === run.stdout.length - 1, `one line of JSON expected: ${run.stdout}`)
  return JSON.parse(run.stdout) as Record<string, unknown>
}

/** A failure an operator can read: non-zero, nothing on stdout, no stack trace. */
function assertCleanFailure(run: Run): string[] {
  assert.notEqual(run.code, 0, `non-zero exit expected; stdout: ${run.stdout}`)
  assert.equal(run.signal, null)
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace')
  assert.match(run.stderr, /^gatehouse: /)
  return run.stderr.trimEnd().split('\n')
}

await forEachDialect('gatehouse command line', (dialect) => {
  let database: TestDatabase
  let dataDir: string
  let settings: Record<string, string>

  before(async () => {
    database = await createTestDatabase(dialect)
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'))
    settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir }
  })
  after(async () => {
    await database?.drop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('users create --json prints the user and their team as one JSON object', async () => {
    const run = await gatehouse(
      ['users', 'create', '--email', 'Ada@Example.com', '--name', 'Ada', '--password', PASSWORD, '--team', 'Engines', '--json'],
      settings,
    )
    const user = parseJson(run)
    assert.deepEqual(Object.keys(user), ['id', 'email', 'name', 'is_verified', 'team'])
    assert.equal(user.is_verified, false)
    assert.ok(Number.isSafeInteger(user.id))
    assert.equal(user.email, 'Ada@Example.com')
    assert.equal(user.name, 'Ada')
    const team = user.team as Record<string, unknown>
    assert.deepEqual(Object.keys(team), ['id', 'name'])
    assert.ok(Number.isSafeInteger(team.id))
    assert.equal(team.name, 'Engines')
  })

  it('users create without --json prints one readable line', async () => {
    const run = await gatehouse(['users', 'create', '--email', 'grace@example.com', '--name', 'Grace', '--password', PASSWORD, '--team', 'Compilers'], settings)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stderr, '')
    const lines = run.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 1)
    assert.throws(() => JSON.parse(lines[0]!))
    assert.match(lines[0]!, /grace@example\.com/)
    assert.match(lines[0]!, /Compilers/)
  })

  it('refuses a second user with the same e-mail in another letter case, in one line', async () => {
    const run = await gatehouse(['users', 'create', '--email', 'ADA@example.COM', '--name', 'Impostor', '--password', PASSWORD, '--json'], settings)
    assert.deepEqual(assertCleanFailure(run), [`gatehouse: ${MESSAGES.email_taken.replace(/\.$/, '')}: "ADA@example.COM".`])
    assert.equal(run.stdout, '')
  })

  it('users create refuses a user or team name with a text-direction override, and creates nothing', async () => {
    const [badName, badTeam] = await Promise.all([
      gatehouse(['users', 'create', '--email', 'rlo@example.com', '--name', 'Mallory\u202Eyrollam', '--password', PASSWORD], settings),
      gatehouse(['users', 'create', '--email', 'rlo2@example.com', '--name', 'Mallory', '--password', PASSWORD, '--team', 'Team\u2066x'], settings),
    ])
    assert.deepEqual(assertCleanFailure(badName), [`gatehouse: ${MESSAGES.name_control_characters}`])
    assert.deepEqual(assertCleanFailure(badTeam), [`gatehouse: ${MESSAGES.team_name_control_characters}`])
    const db = await openDatabase(database.url)
    try {
      assert.equal(await findUserByEmail(db.kysely, 'rlo@example.com'), undefined)
      assert.equal(await findUserByEmail(db.kysely, 'rlo2@example.com'), undefined)
    } finally {
      await db.close()
    }
  })

  it('names a missing flag', async () => {
    const run = await gatehouse(['users', 'create', '--email', 'nopass@example.com', '--name', 'No Pass'], settings)
    const lines = assertCleanFailure(run)
    assert.match(lines[0]!, /--password/)
    assert.equal(run.stdout, '')
    const db = await openDatabase(database.url)
    try {
      assert.equal(await findUserByEmail(db.kysely, 'nopass@example.com'), undefined)
    } finally {
      await db.close()
    }
  })

  it('refuses an unknown command and an unknown flag', async () => {
    const command = await gatehouse(['users', 'frobnicate'], settings)
    assert.match(assertCleanFailure(command)[0]!, /unknown command/)
    const flag = await gatehouse(['users', 'create', '--emial', 'x@example.com', '--name', 'X', '--password', PASSWORD], settings)
    assert.match(assertCleanFailure(flag)[0]!, /--emial/)
  })

  it('teams add-member --json adds a user to an existing team', async () => {
    const created = parseJson(await gatehouse(['users', 'create', '--email', 'lin@example.com', '--name', 'Lin', '--password', PASSWORD, '--json'], settings))
    assert.equal(created.team, null)
    const run = await gatehouse(['teams', 'add-member', '--team', 'Engines', '--email', 'LIN@example.com', '--role', 'member', '--json'], settings)
    const result = parseJson(run)
    assert.equal((result.team as { name: string }).name, 'Engines')
    assert.deepEqual(result.user, { id: created.id, email: 'lin@example.com' })
    assert.equal(result.role, 'member')
  })

  it('teams add-member refuses an unknown team and an unknown role, naming them', async () => {
    const team = await gatehouse(['teams', 'add-member', '--team', 'No Such Team', '--email', 'lin@example.com', '--json'], settings)
    assert.deepEqual(assertCleanFailure(team), [`gatehouse: ${MESSAGES.team_not_found.replace(/\.$/, '')}: "No Such Team".`])
    const role = await gatehouse(['teams', 'add-member', '--team', 'Engines', '--email', 'lin@example.com', '--role', 'admin'], settings)
    assert.deepEqual(assertCleanFailure(role), [`gatehouse: ${MESSAGES.role_invalid.replace(/\.$/, '')}: "admin".`])
  })

  it('users disable and users enable --json change the stored user', async () => {
    const db = await openDatabase(database.url)
    try {
      const disabled = parseJson(await gatehouse(['users', 'disable', '--email', 'grace@EXAMPLE.com', '--json'], settings))
      assert.equal(disabled.email, 'grace@example.com')
      assert.equal(disabled.is_disabled, true)
      assert.equal((await findUserByEmail(db.kysely, 'grace@example.com'))?.isDisabled, true)

      const enabled = parseJson(await gatehouse(['users', 'enable', '--email', 'grace@example.com', '--json'], settings))
      assert.equal(enabled.id, disabled.id)
      assert.equal(enabled.is_disabled, false)
      assert.equal((await findUserByEmail(db.kysely, 'grace@example.com'))?.isDisabled, false)
    } finally {
      await db.close()
    }
    const unknown = await gatehouse(['users', 'disable', '--email', 'nobody@example.com'], settings)
    assert.deepEqual(assertCleanFailure(unknown), [`gatehouse: ${MESSAGES.user_not_found.replace(/\.$/, '')}: "nobody@example.com".`])
  })

  it('users disable revokes every personal access token of the user and says that enabling restores none', async () => {
    const created = parseJson(
      await gatehouse(['users', 'create', '--email', 'kim@example.com', '--name', 'Kim', '--password', PASSWORD, '--team', 'Kilns', '--json'], settings),
    )
    const db = await openDatabase(database.url)
    try {
      const team = created.team as { id: number }
      await createPersonalAccessToken(db, { userId: Number(created.id), teamId: team.id, name: 'ci' }, Date.now())
      const disabled = await gatehouse(['users', 'disable', '--email', 'kim@example.com'], settings)
      assert.equal(disabled.code, 0, disabled.stderr)
      assert.match(disabled.stdout, /1 personal access token\(s\) revoked\. Enabling the user again restores none of them\./)
      const enabled = await gatehouse(['users', 'enable', '--email', 'kim@example.com'], settings)
      assert.match(enabled.stdout, /stay revoked/)
      assert.deepEqual(await personalAccessTokensOf(db, Number(created.id), team.id), [])
    } finally {
      await db.close()
    }
  })

  it('teams remove-member --json takes the user out of the team and revokes what they held there', async () => {
    parseJson(await gatehouse(['users', 'create', '--email', 'rey@example.com', '--name', 'Rey', '--password', PASSWORD, '--json'], settings))
    const added = parseJson(await gatehouse(['teams', 'add-member', '--team', 'Engines', '--email', 'rey@example.com', '--json'], settings))
    const db = await openDatabase(database.url)
    try {
      const userId = (added.user as { id: number }).id
      const teamId = (added.team as { id: number }).id
      await createPersonalAccessToken(db, { userId, teamId, name: 'ci' }, Date.now())
      const removed = parseJson(await gatehouse(['teams', 'remove-member', '--team', 'Engines', '--email', 'rey@example.com', '--json'], settings))
      assert.deepEqual(removed.revoked, { grants: 0, personal_access_tokens: 1 })
      assert.deepEqual(await personalAccessTokensOf(db, userId, teamId), [])
      const plain = await gatehouse(['teams', 'remove-member', '--team', 'Engines', '--email', 'rey@example.com'], settings)
      assert.deepEqual(assertCleanFailure(plain), [`gatehouse: ${MESSAGES.user_not_member.replace(/\.$/, '')}: "rey@example.com".`])
    } finally {
      await db.close()
    }
  })

  it('users disable and teams remove-member write what they revoked to the activity log, with no address (OWASP Logging Cheat Sheet)', async () => {
    const created = parseJson(
      await gatehouse(['users', 'create', '--email', 'uma@example.com', '--name', 'Uma', '--password', PASSWORD, '--team', 'Looms', '--json'], settings),
    )
    const userId = Number(created.id)
    const looms = (created.team as { id: number }).id
    const engines = (
      parseJson(await gatehouse(['teams', 'add-member', '--team', 'Engines', '--email', 'uma@example.com', '--json'], settings)).team as { id: number }
    ).id
    const db = await openDatabase(database.url)
    try {
      const inEngines = await createPersonalAccessToken(db, { userId, teamId: engines, name: 'deploy' }, Date.now())
      const inLooms = await createPersonalAccessToken(db, { userId, teamId: looms, name: 'ci' }, Date.now())
      const entries = async () =>
        (await db.kysely.selectFrom('activities').selectAll().where('user_id', '=', userId).orderBy('id').execute()).map((row) => ({
          action: row.action,
          team: row.team_id,
          token: row.personal_access_token_id,
          detail: row.detail,
          address: row.address,
        }))

      assert.equal((await gatehouse(['teams', 'remove-member', '--team', 'Engines', '--email', 'uma@example.com'], settings)).code, 0)
      const removal = { action: 'personal_access_token.deleted', team: engines, token: inEngines.record.id, detail: 'deploy', address: null }
      assert.deepEqual(await entries(), [removal])

      assert.equal((await gatehouse(['users', 'disable', '--email', 'uma@example.com'], settings)).code, 0)
      assert.deepEqual(await entries(), [
        removal,
        { action: 'personal_access_token.deleted', team: looms, token: inLooms.record.id, detail: 'ci', address: null },
      ])
    } finally {
      await db.close()
    }
  })

  it('migrate --json applies the migrations once, then nothing', async () => {
    const fresh = await createTestDatabase(dialect)
    try {
      const freshSettings = { ...settings, DATABASE_URL: fresh.url }
      const first = parseJson(await gatehouse(['migrate', '--json'], freshSettings))
      assert.ok(Array.isArray(first.applied) && first.applied.length > 0, `migrations applied: ${JSON.stringify(first)}`)
      const second = parseJson(await gatehouse(['migrate', '--json'], freshSettings))
      assert.deepEqual(second, { applied: [] })
      const third = await gatehouse(['migrate'], freshSettings)
      assert.equal(third.code, 0, third.stderr)
      assert.match(third.stdout, /up to date/)
    } finally {
      await fresh.drop()
    }
  })

  it('serve prints the sandbox login on the first start only, and exits 0 on SIGTERM', async () => {
    const fresh = await createTestDatabase(dialect)
    try {
      const freshSettings = { ...settings, DATABASE_URL: fresh.url }
      const first = await serveOnce(freshSettings)
      assert.equal(first.code, 0, first.stderr)
      assert.match(first.stdout, /^Gatehouse is running at http:\/\/localhost:\d+ /m)
      assert.match(first.stdout, /^ {2}e-mail: {3}\S+@\S+$/m)
      assert.match(first.stdout, /^ {2}password: \S{8,}$/m)

      const second = await serveOnce(freshSettings)
      assert.equal(second.code, 0, second.stderr)
      assert.match(second.stdout, /^Gatehouse is running at /m)
      assert.doesNotMatch(second.stdout, /password:/)
    } finally {
      await fresh.drop()
    }
  })
})

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

describe('gatehouse serve with a bad configuration', () => {
  let dataDir: string
  let occupied: Server

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-'))
    occupied = await listen(0)
  })
  after(() => {
    occupied?.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  const sqlite = () => `sqlite:${join(dataDir, 'gatehouse.sqlite')}`

  const cases: { name: string; setting: string; env: () => Record<string, string> }[] = [
    { name: 'a database URL of an unsupported kind', setting: 'DATABASE_URL', env: () => ({ DATABASE_URL: 'mysql://x' }) },
    { name: 'an unreachable PostgreSQL server', setting: 'DATABASE_URL', env: () => ({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' }) },
    { name: 'a port that is not a number', setting: 'PORT', env: () => ({ DATABASE_URL: sqlite(), PORT: 'notaport' }) },
    {
      name: 'a signing algorithm it does not offer',
      setting: 'GATEHOUSE_SIGNING_ALG',
      env: () => ({ DATABASE_URL: sqlite(), GATEHOUSE_SIGNING_ALG: 'HS256' }),
    },
    {
      name: 'a port already in use',
      setting: 'PORT',
      env: () => {
        const address = occupied.address()
        assert.ok(typeof address === 'object' && address)
        return { DATABASE_URL: sqlite(), PORT: String(address.port) }
      },
    },
  ]

  for (const c of cases) {
    it(`exits with one line naming ${c.setting} for ${c.name}`, async () => {
      const run = await gatehouse(['serve'], { GATEHOUSE_DATA_DIR: dataDir, ...c.env() })
      const lines = assertCleanFailure(run)
      assert.equal(lines.length, 1, `exactly one line on stderr expected:\n${run.stderr}`)
      assert.ok(lines[0]!.startsWith(`gatehouse: ${c.setting}: `), lines[0])
    })
  }
})
