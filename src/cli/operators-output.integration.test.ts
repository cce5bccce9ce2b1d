import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openDatabase } from '../db/connection.js'
import { countUsers } from '../db/users.js'
import { freePort } from '../testing/ports.js'
import { CLI, childPids, gatehouseEnv, runGatehouse, sleep, startGatehouse, type Run } from '../testing/spawned.js'

/** The keys of a JSON object's top level, in order, duplicates kept (JSON.parse keeps only the last). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = []
  let depth = 0
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '"') {
      let end = i + 1
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1
      if (depth === 1 && /^\s*:/.test(line.slice(end + 1))) keys.push(JSON.parse(line.slice(i, end + 1)) as string)
      i = end
    } else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return keys
}

function usageFailure(run: Run, named: string): void {
  assert.equal(run.code, 2, `exit 2 for a usage error: ${run.stderr}`)
  const [first, second] = run.stderr.split('\n')
  assert.match(first!, new RegExp(`^gatehouse: .*"${named}"`), 'the refused value is named')
  assert.match(second!, /^Usage: gatehouse /)
}

describe("the command line's output for operators", () => {
  let dataDir: string
  let settings: Record<string, string>

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-operators-'))
    settings = { GATEHOUSE_DATA_DIR: dataDir, DATABASE_URL: `sqlite:${join(dataDir, 'gatehouse.sqlite')}` }
    assert.equal((await runGatehouse(['migrate'], settings)).code, 0)
  })
  after(() => rmSync(dataDir, { recursive: true, force: true }))

  it('answers a value a flag cannot take with exit 2, naming the value (docs/cli.md: usage errors exit 2)', async () => {
    usageFailure(await runGatehouse(['serve', '--workers', 'banana'], settings), 'banana')
    usageFailure(await runGatehouse(['registration-tokens', 'create', '--expires-in', 'soon'], settings), 'soon')
  })

  it('names the team, user or client it did not find', async () => {
    const team = await runGatehouse(['invitations', 'create', '--team', 'Nope', '--email', 'x@example.com'], settings)
    assert.equal(team.code, 1)
    assert.match(team.stderr, /^gatehouse: No team has this name: "Nope"\.\n$/)
    const user = await runGatehouse(['users', 'reset-link', '--email', 'ghost@example.com'], settings)
    assert.match(user.stderr, /^gatehouse: No user has this e-mail address: "ghost@example\.com"\.\n$/)
    const client = await runGatehouse(['clients', 'delete', '--client-id', 'no-such-client'], settings)
    assert.match(client.stderr, /^gatehouse: No API client has this Client ID: "no-such-client"\.\n$/)
  })

  it('refuses a SQLite file in a directory that does not exist, and creates none; the default data directory it creates', async () => {
    const missing = join(dataDir, 'no', 'such', 'dir')
    const refused = await runGatehouse(['migrate'], { GATEHOUSE_DATA_DIR: dataDir, DATABASE_URL: `sqlite:${join(missing, 'x.sqlite')}` })
    assert.equal(refused.code, 1)
    assert.equal(refused.stderr, `gatehouse: DATABASE_URL: the directory ${missing} of the SQLite file does not exist; create it first\n`)
    assert.equal(existsSync(join(dataDir, 'no')), false, 'no directory was created')

    const freshDataDir = join(dataDir, 'fresh', 'data')
    const created = await runGatehouse(['migrate'], { GATEHOUSE_DATA_DIR: freshDataDir })
    assert.equal(created.code, 0, created.stderr)
    assert.ok(existsSync(join(freshDataDir, 'gatehouse.sqlite')))
  })

  it("resources list names Gatehouse's own API after the same settings as the server, and says which it used", async () => {
    const byPort = await runGatehouse(['resources', 'list'], { ...settings, PORT: '4321' })
    assert.equal(byPort.code, 0, byPort.stderr)
    assert.match(byPort.stdout, /^Issuer: http:\/\/localhost:4321 \(from PORT, as GATEHOUSE_ISSUER is not set\)$/m)
    assert.match(byPort.stdout, /^http:\/\/localhost:4321\/api\/v2 /m)
    const byIssuer = await runGatehouse(['resources', 'list'], { ...settings, PORT: '4321', GATEHOUSE_ISSUER: 'https://auth.example.com' })
    assert.match(byIssuer.stdout, /^Issuer: https:\/\/auth\.example\.com \(from GATEHOUSE_ISSUER\)$/m)
    assert.match(byIssuer.stdout, /^https:\/\/auth\.example\.com\/api\/v2 /m)
    const byDefault = await runGatehouse(['resources', 'list'], settings)
    assert.match(byDefault.stdout, /^Issuer: http:\/\/localhost:3000 \(the default, as neither GATEHOUSE_ISSUER nor PORT is set/m)
    const json = await runGatehouse(['resources', 'list', '--json'], { ...settings, PORT: '4321' })
    assert.equal((JSON.parse(json.stdout) as { uri: string }[])[0]!.uri, 'http://localhost:4321/api/v2', 'the JSON stays the list alone')
  })
})

/** Starts `serve` on an empty database and asks the server as fast as it can; how many users existed at its first answer. */
async function usersAtFirstAnswer(args: string[]): Promise<{ users: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-first-answer-'))
  const url = `sqlite:${join(dir, 'gatehouse.sqlite')}`
  const port = await freePort()
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: gatehouseEnv({ GATEHOUSE_DATA_DIR: dir, DATABASE_URL: url, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    const deadline = Date.now() + 90_000
    for (;;) {
      const answered = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => true,
        () => false,
      )
      if (answered) break
      assert.ok(Date.now() < deadline && child.exitCode === null, `no answer from serve:\n${output}`)
      await sleep(2)
    }
    const db = await openDatabase(url)
    try {
      return { users: await countUsers(db.kysely), output }
    } finally {
      await db.close()
    }
  } finally {
    child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('serve creates the sandbox account before it listens', { timeout: 120_000 }, () => {
  it('in one process: the first answer comes when the account already exists', async () => {
    const { users, output } = await usersAtFirstAnswer([])
    assert.equal(users, 1, output)
  })

  it('with workers: the first answer comes when the account already exists', async () => {
    const { users, output } = await usersAtFirstAnswer(['--workers', '2'])
    assert.equal(users, 1, output)
  })

  it('a start that fails to listen leaves no account whose password nobody saw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-failed-start-'))
    const url = `sqlite:${join(dir, 'gatehouse.sqlite')}`
    try {
      assert.equal((await runGatehouse(['migrate'], { GATEHOUSE_DATA_DIR: dir, DATABASE_URL: url })).code, 0)
      const blocker = await startGatehouse({ GATEHOUSE_DATA_DIR: mkdtempSync(join(dir, 'other-')) })
      try {
        const failed = await runGatehouse(['serve'], { GATEHOUSE_DATA_DIR: dir, DATABASE_URL: url, PORT: String(blocker.port) })
        assert.equal(failed.code, 1)
        assert.match(failed.stderr, /^gatehouse: PORT: /)
        const after = await openDatabase(url)
        try {
          assert.equal(await countUsers(after.kysely), 0)
        } finally {
          await after.close()
        }
      } finally {
        await blocker.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

const redisUrl = process.env.TEST_REDIS_URL

describe('a cluster on Redis logs only real trouble, in valid JSON', { skip: redisUrl === undefined && 'TEST_REDIS_URL is not set', timeout: 120_000 }, () => {
  let dir: string

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-log-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('from start to SIGTERM, a worker dying on the way: every log line is JSON with no key twice, and no lost revocation notices', async () => {
    const server = await startGatehouse(
      { GATEHOUSE_DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'gatehouse.sqlite')}`, REDIS_URL: redisUrl! },
      { args: ['--workers', '2'] },
    )
    const [worker] = childPids(server.pid)
    assert.ok(worker !== undefined)
    process.kill(worker, 'SIGKILL')
    const deadline = Date.now() + 20_000
    while (!server.log().includes('a worker died')) {
      assert.ok(Date.now() < deadline, server.log())
      await sleep(50)
    }
    const exit = await server.stop()
    assert.equal(exit.code, 0, server.log())

    const lines = server
      .log()
      .split('\n')
      .filter((line) => line.startsWith('{'))
    assert.ok(lines.length > 0)
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>
      const keys = topLevelKeys(line)
      assert.deepEqual(keys, [...new Set(keys)], `a key twice: ${line}`)
      assert.ok(typeof entry.msg === 'string')
    }
    const died = lines.find((line) => line.includes('a worker died'))!
    assert.equal((JSON.parse(died) as { worker: number }).worker, worker)
    assert.doesNotMatch(server.log(), /revocation notices/)
  })
})
