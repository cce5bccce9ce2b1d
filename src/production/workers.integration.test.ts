import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import {
  childPids,
  createAccount,
  exchangeCode,
  getOnNewConnection,
  isAlive,
  logInAt,
  newCode,
  runGatehouse,
  startGatehouse,
  tokensOf,
  eventually,
  type SpawnedServer,
} from '../testing/spawned.js'
import { freePort } from '../testing/ports.js'

const RATE_LIMIT = 5

describe('gatehouse serve --workers 2 on SQLite', { timeout: 120_000 }, () => {
  let database: TestDatabase
  let dataDir: string
  let settings: Record<string, string>
  let server: SpawnedServer | undefined
  let workers: number[] = []

  before(
    async () => {
      database = await createTestDatabase('sqlite')
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-'))
      settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_RATE_LIMIT: String(RATE_LIMIT) }
      server = await startGatehouse(settings, { args: ['--workers', '2'] })
      workers = childPids(server.pid)
    },
    { timeout: 60_000 },
  )

  after(
    async () => {
      // The primary stops its workers; any it left behind are ended by id.
      await server?.kill()
      for (const pid of workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
      await database?.drop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
    { timeout: 30_000 },
  )

  it('says how many workers it started, and runs that many processes', () => {
    assert.match(server!.log(), /^Gatehouse is running at .*, 2 workers\)$/m)
    assert.equal(workers.length, 2, `worker processes of ${server!.pid}: ${workers.join(', ')}`)
  })

  it('has both workers answer on the one port', async () => {
    const servedBy = new Set<number>()
    for (let i = 0; i < 10; i++) {
      const response = await getOnNewConnection(`${server!.url}/readyz`, {}, workers)
      assert.equal(response.status, 200, response.body)
      assert.ok(response.servedBy !== undefined, 'the connection belongs to one of the workers')
      servedBy.add(response.servedBy)
    }
    assert.deepEqual([...servedBy].sort(), [...workers].sort(), 'each worker answered some of the connections')
  })

  it('shares one rate-limit budget between the workers (counted in the primary)', async () => {
    const account = await createAccount(settings, 'ada@example.com')
    const browser = await logInAt(server!.url, account.email)
    const { access_token } = tokensOf(await exchangeCode(server!.url, account, await newCode(browser, account)))

    const answers = []
    for (let i = 0; i <= RATE_LIMIT; i++)
      answers.push(await getOnNewConnection(`${server!.url}/api/v2/me`, { authorization: `Bearer ${access_token}` }, workers))
    const seen = answers.map((a) => `${a.status} remaining=${String(a.headers['x-ratelimit-remaining'])} worker=${a.servedBy}`)
    // Without a shared count each worker would allow RATE_LIMIT requests of its own.
    assert.equal(new Set(answers.map((a) => a.servedBy)).size, 2, `the requests reached both workers: ${seen.join('; ')}`)
    assert.deepEqual(
      answers.map((a) => [a.status, a.headers['x-ratelimit-remaining']]),
      [
        [200, '4'],
        [200, '3'],
        [200, '2'],
        [200, '1'],
        [200, '0'],
        [429, '0'],
      ],
      seen.join('; '),
    )
    assert.equal(JSON.parse(answers[RATE_LIMIT]!.body).error, 'rate_limited')
  })

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    const [victim, survivor] = workers as [number, number]
    process.kill(victim, 'SIGKILL')
    // Until the primary has seen the death, node:cluster may still hand it a
    // new connection, which then hangs: wait for the primary's log line.
    assert.ok(await eventually(5000, 20, async () => /a worker died; starting another/.test(server!.log())), `the primary noticed the death\n${server!.log()}`)
    assert.ok(!isAlive(victim))
    for (let i = 0; i < 4; i++) {
      const response = await getOnNewConnection(`${server!.url}/healthz`, {}, [survivor])
      assert.equal(response.status, 200)
    }
    const replaced = await eventually(10_000, 100, async () => childPids(server!.pid).length === 2)
    assert.ok(replaced, `a new worker was started: ${childPids(server!.pid).join(', ')}\n${server!.log()}`)
    workers = childPids(server!.pid)
    assert.ok(workers.includes(survivor) && !workers.includes(victim))
    const response = await getOnNewConnection(`${server!.url}/readyz`, {}, workers)
    assert.equal(response.status, 200)
  })

  it('stops the primary and every worker on SIGTERM, with exit code 0', async () => {
    const exit = await server!.stop()
    assert.deepEqual(exit, { code: 0, signal: null }, server!.log())
    assert.ok(await eventually(5000, 50, async () => workers.every((pid) => !isAlive(pid))), `workers still alive: ${workers.filter(isAlive).join(', ')}`)
    await assert.rejects(fetch(`${server!.url}/healthz`), 'nothing listens on the port any more')
  })
})

describe('gatehouse serve --workers: the number of workers', { timeout: 60_000 }, () => {
  let dataDir: string
  let settings: Record<string, string>

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-'))
    settings = { GATEHOUSE_DATA_DIR: dataDir, DATABASE_URL: `sqlite:${join(dataDir, 'gatehouse.sqlite')}` }
  })
  after(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  for (const value of ['0', 'abc', '1.5', '257']) {
    it(`refuses --workers ${value} as a usage error (exit 2) with one line that names the option, then the usage`, async () => {
      // A serve that was not refused would run until the timeout kills it.
      const run = await runGatehouse(['serve', '--workers', value], { ...settings, PORT: String(await freePort()) }, 15_000)
      assert.equal(run.signal, null, `gatehouse serve --workers ${value} was still running: ${run.stdout}${run.stderr}`)
      assert.equal(run.code, 2, run.stderr)
      assert.equal(run.stdout, '')
      const lines = run.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 2, run.stderr)
      assert.match(lines[0]!, /^gatehouse: --workers: /)
      assert.ok(lines[0]!.includes(`"${value}"`), lines[0])
      assert.match(lines[1]!, /^Usage: gatehouse serve /)
    })
  }

  it('starts one worker per core with --workers auto', async () => {
    const server = await startGatehouse(settings, { args: ['--workers', 'auto'] })
    const expected = availableParallelism()
    try {
      if (expected > 1) assert.match(server.log(), new RegExp(`, ${expected} workers\\)$`, 'm'))
      assert.equal(childPids(server.pid).length, expected > 1 ? expected : 0)
    } finally {
      const exit = await server.stop()
      assert.deepEqual(exit, { code: 0, signal: null }, server.log())
    }
  })
})
