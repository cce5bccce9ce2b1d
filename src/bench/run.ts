import autocannon from 'autocannon'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cli, freePort, startProcess } from './processes.js'

/*
 * `npm run bench`: the real server on SQLite and a bare Fastify route, each
 * in a process of its own, driven in turn by autocannon on this machine.
 * Figures vary from run to run; compare them only as ratios within a run.
 */

const DURATION = Number(process.env.BENCH_DURATION ?? 8)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)

interface Row {
  scenario: string
  rps: number
  p50: number
  p99: number
  errors: number
}

async function load(url: string, headers: Record<string, string>, duration: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration, headers })
}

async function measure(scenario: string, url: string, headers: Record<string, string> = {}): Promise<Row> {
  if (WARMUP > 0) await load(url, headers, WARMUP)
  const result = await load(url, headers, DURATION)
  return { scenario, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors }
}

function table(rows: Row[], baseline: Row): string {
  const lines = ['| scenario | req/s | p50 ms | p99 ms | non-2xx + errors | vs bare route |', '|---|--:|--:|--:|--:|--:|']
  for (const r of rows) {
    lines.push(`| ${r.scenario} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${((r.rps / baseline.rps) * 100).toFixed(0)}% |`)
  }
  return lines.join('\n')
}

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
const port = await freePort()
const env: NodeJS.ProcessEnv = {
  ...process.env,
  GATEHOUSE_DATA_DIR: dataDir,
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${join(dataDir, 'bench.sqlite')}`,
  PORT: String(port),
  GATEHOUSE_ISSUER: `http://127.0.0.1:${port}`,
  // The benchmark measures the limiter's cost, not its refusals.
  GATEHOUSE_RATE_LIMIT: '1000000',
}
delete env.REDIS_URL

const bare = await startProcess([fileURLToPath(new URL('./bare-server.js', import.meta.url))], env, /listening (http:\/\/\S+)/)
const server = await startProcess([fileURLToPath(new URL('../cli.js', import.meta.url)), 'serve'], env, /Gatehouse is running/)
try {
  await cli(['users', 'create', '--email', 'bench@example.com', '--name', 'Bench', '--password', 'bench password', '--team', 'Bench'], env)
  const client = await cli(['clients', 'create', '--owner', 'bench@example.com', '--name', 'Bench', '--redirect-uri', 'https://bench.example/cb', '--first-party'], env)
  const tokenResponse = await fetch(`http://127.0.0.1:${port}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'password', client_id: client.client_id, client_secret: client.client_secret, username: 'bench@example.com', password: 'bench password' }),
  })
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string }

  const baseline = await measure('bare Fastify route', `${bare.match[1]}/bare`)
  const me = await measure('GET /api/v2/me (SQLite)', `http://127.0.0.1:${port}/api/v2/me`, { authorization: `Bearer ${token}` })

  // The cache-free promise: a revoked token is refused on the very next request.
  await fetch(`http://127.0.0.1:${port}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: String(client.client_id), client_secret: String(client.client_secret) }).toString(),
  })
  const afterRevoke = await fetch(`http://127.0.0.1:${port}/api/v2/me`, { headers: { authorization: `Bearer ${token}` } })

  process.stdout.write(`\nGatehouse benchmark: ${cpus().length} cores, Node.js ${process.version}, ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s\n\n`)
  process.stdout.write(table([baseline, me], baseline) + '\n\n')
  process.stdout.write(`revoked token refused on the next request: ${afterRevoke.status === 401 ? 'yes' : `no (HTTP ${afterRevoke.status})`}\n`)
  const ratio = me.rps / baseline.rps
  process.stdout.write(`goal /api/v2/me >= 50% of the bare route: ${ratio >= 0.5 ? 'met' : 'missed'} (${(ratio * 100).toFixed(0)}%)\n`)
} finally {
  await server.stop()
  await bare.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
