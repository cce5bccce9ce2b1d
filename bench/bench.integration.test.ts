import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { postgresSkipReason } from '../src/testing/databases.js'

interface Results {
  rows: { group: string; scenario: string; failed: number; exhausted: boolean }[]
  goals: { goal: string; status: string; figures: string }[]
  profile?: { parts: { name: string }[] }
  estimatedSeconds: number
}

const GATEHOUSE_SCENARIOS = [
  'GET /api/v2/me',
  'introspection (client_secret_basic)',
  'token: refresh_token grant (rotation)',
  'token: authorization_code grant',
  'revocation (refresh token)',
  'GET /oauth/authorize (logged in, consent remembered)',
  'token: client_credentials grant (service client)',
]

const PEER_SCENARIOS = [
  'JWT check beside the provider (no revocation)',
  'introspection (client_secret_basic)',
  'token: refresh_token grant (rotation)',
  'token: authorization_code grant',
  'revocation (refresh token)',
  'token: client_credentials grant (service client)',
]

// The full benchmark is too long for a test run; its quick mode runs every row so a change that breaks one is seen here.
describe('npm run bench -- --quick', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-test-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('measures every row of the report without a failed request', async () => {
    const resultsFile = join(dir, 'results.json')
    const child = spawn(process.execPath, [fileURLToPath(new URL('./run.js', import.meta.url)), '--quick'], {
      env: { ...process.env, BENCH_RESULTS: resultsFile, BENCH_OUT: join(dir, 'report.md') },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let progress = ''
    child.stderr.on('data', (chunk: Buffer) => (progress += chunk.toString()))
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.equal(code, 0, progress)
    assert.match(progress.split('\n')[0]!, /^estimated duration: about \d+ min /, 'the run says first how long it will take')

    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as Results
    const has = (group: string, scenario: string) => results.rows.some((r) => r.group === group && r.scenario === scenario)
    const groups = ['Gatehouse, SQLite, one process', 'Gatehouse, SQLite, --workers 2']
    if ((await postgresSkipReason()) === undefined) groups.push('Gatehouse, PostgreSQL, one process')
    for (const group of groups) for (const scenario of GATEHOUSE_SCENARIOS) assert.ok(has(group, scenario), `${group} | ${scenario}`)
    for (const scenario of PEER_SCENARIOS) assert.ok(has('oidc-provider 8.8.1 (in-memory store)', scenario), `peer | ${scenario}`)
    for (const scenario of ['GET /api/v2/me', 'token: refresh_token grant (rotation)', 'token: authorization_code grant']) {
      assert.ok(has('Gatehouse, SQLite, one process, GATEHOUSE_SIGNING_ALG=ES256', scenario), `ES256 | ${scenario}`)
    }
    for (const group of [
      'Gatehouse, SQLite, one process, metrics on (the default), measured in turn with the next',
      'Gatehouse, SQLite, one process, GATEHOUSE_MANAGEMENT_PORT=off (no metrics)',
      'Gatehouse, SQLite, one process, OpenTelemetry tracing, every request sampled',
    ]) {
      for (const scenario of ['GET /api/v2/me', 'token: refresh_token grant (rotation)']) assert.ok(has(group, scenario), `${group} | ${scenario}`)
    }
    for (const stored of ['1,000', '2,000'])
      for (const scenario of ['GET /api/v2/me', 'introspection (client_secret_basic)', 'token: refresh_token grant (rotation)'])
        assert.ok(has(`Growth, SQLite, ${stored} tokens stored`, scenario), `${stored} | ${scenario}`)
    for (const row of results.rows) {
      assert.equal(row.failed, 0, `${row.group} | ${row.scenario}: failed requests`)
      assert.equal(row.exhausted, false, `${row.group} | ${row.scenario}: the pool ran out`)
    }
    assert.ok(
      results.profile?.parts.some((p) => p.name.startsWith('gatehouse')),
      'the token endpoint profile names Gatehouse code',
    )
    const measuredGoals = results.goals.filter((g) => g.status !== 'not measured')
    // A quick run measures --workers on SQLite only, so those goals on PostgreSQL stay unmeasured.
    const expectedGoals = (await postgresSkipReason()) === undefined ? 29 : 19
    assert.equal(measuredGoals.length, expectedGoals, JSON.stringify(results.goals, null, 2))
    const report = readFileSync(join(dir, 'report.md'), 'utf8')
    for (const section of ['## Goals', '## Signing algorithms', '## Where the token endpoint spends its time'])
      assert.ok(report.includes(`\n${section}\n`), section)
    for (const goal of results.goals) assert.ok(report.includes(`- ${goal.goal}: `), goal.goal)
    assert.match(report, /\| GET \/api\/v2\/me \| \d+ \| \d+ \| \d+\.\d\d× \|/, 'the ES256 row beside the RS256 one')
  })
})
