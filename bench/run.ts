import autocannon from 'autocannon'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { KeyObject } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../src/config.js'
import type { SigningAlgorithm } from '../src/keys/algorithms.js'
import { signJwt } from '../src/keys/sign-jwt.js'
import { generateSigningKeyPair } from '../src/keys/signing-keys.js'
import { closeContext, createLogger, openContext } from '../src/server.js'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../src/testing/databases.js'
import { monotonicUs, shareOf, summariseProfile, type ProfileSummary } from './profile.js'
import { freePort, startProcess } from './processes.js'
import {
  GATEHOUSE_SCENARIOS,
  goals,
  GROUP,
  growthGroup,
  GROWTH_SCENARIOS,
  renderReport,
  SCENARIO,
  type BenchRun,
  type DialectLabel,
  type MetricsCost,
  type Row,
} from './report.js'
import {
  REDIRECT_URI,
  fillStoredTokens,
  seedAccount,
  seedAuthorizeSession,
  seedCodes,
  seedIssuances,
  seedServiceClient,
  seedTokens,
  storageBytes,
  type BenchAccount,
} from './seed.js'

/*
 * `npm run bench`: every figure of one run, on this machine, each server in
 * a process of its own and driven in turn by autocannon from this one.
 * Figures vary by ±20% between runs; compare them only as ratios to the
 * baselines of the same run. The results go to docs/benchmarks.md.
 *
 * `--quick` (or BENCH_QUICK=1) runs every row with a few hundred requests and
 * small pools, to prove the benchmark still works; its figures mean nothing
 * and it writes no report unless BENCH_OUT names a file.
 *
 * It prints at start how long it expects to take, from the rows it will
 * measure and the rows it will seed.
 *
 * BENCH_DURATION / BENCH_WARMUP (s), BENCH_CONNECTIONS, BENCH_POOL (codes and
 * refresh tokens made in advance per server), BENCH_GROWTH (stored-token
 * counts, comma-separated), BENCH_OUT (the report file), BENCH_RESULTS (the
 * rows as JSON).
 */

const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1'
const DURATION = Number(process.env.BENCH_DURATION ?? 8)
const WARMUP = QUICK ? 0 : Number(process.env.BENCH_WARMUP ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? (QUICK ? 10 : 50))
/** In quick mode each row sends this many requests, fewer than any pool holds, so a failure is a real one. */
const QUICK_REQUESTS = 200
const POOL = Number(process.env.BENCH_POOL ?? (QUICK ? 2 * QUICK_REQUESTS : 60_000))
// Revocation runs several times faster than issuance: a pool twice as deep lasts the measured time.
const REVOKE_POOL = QUICK ? POOL : 2 * POOL
// Two counts even in quick mode, so the growth goals are computed.
const GROWTH = (process.env.BENCH_GROWTH ?? (QUICK ? '1000,2000' : '10000,1000000'))
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
const OUT = process.env.BENCH_OUT ?? (QUICK ? undefined : 'docs/benchmarks.md')
const RESULTS = process.env.BENCH_RESULTS
const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))

const rows: Row[] = []
const notes: string[] = []
let profile: ProfileSummary | undefined
const metricsCost: MetricsCost[] = []
let idleMemoryMb: number | undefined
let startupMs: number | undefined
const startedAt = Date.now()

function log(line: string): void {
  process.stderr.write(`${line}\n`)
}

interface Pool {
  values: string[]
  next: number
}

function pool(values: string[]): Pool {
  return { values, next: 0 }
}

/** Hands out the next value of a pool to each request; past its end the requests fail and are counted as such. */
function bodies(source: Pool, make: (value: string) => string) {
  return (request: autocannon.Request) => ({ ...request, body: make(source.values[source.next++] ?? 'exhausted') })
}

interface Load {
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: (r: autocannon.Request) => autocannon.Request
  /** The status every answer should have; 2xx when not given. */
  status?: number
  pool?: Pool
}

async function drive(url: string, load: Load, seconds: number) {
  return autocannon({
    url,
    connections: CONNECTIONS,
    ...(QUICK ? { amount: QUICK_REQUESTS } : { duration: seconds }),
    method: load.method ?? 'GET',
    headers: load.headers ?? {},
    ...(load.body ? { requests: [{ setupRequest: load.body }] } : {}),
  })
}

function failures(result: autocannon.Result, status: number | undefined): number {
  const transport = result.errors + result.timeouts
  if (status === undefined) return transport + result.non2xx
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {}
  const wrong = Object.entries(stats).reduce((sum, [code, { count }]) => (Number(code) === status ? sum : sum + count), 0)
  return transport + wrong
}

async function measure(group: string, scenario: string, url: string, load: Load = {}): Promise<Row> {
  return record(await sample(group, scenario, url, load))
}

function record(row: Row): Row {
  rows.push(row)
  return row
}

/** One measurement of a row, said in the progress log, not yet in the report. */
async function sample(group: string, scenario: string, url: string, load: Load = {}): Promise<Row> {
  if (WARMUP > 0) await drive(url, load, WARMUP)
  const result = await drive(url, load, DURATION)
  const exhausted = load.pool !== undefined && load.pool.next > load.pool.values.length
  const row = {
    group,
    scenario,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: failures(result, load.status),
    exhausted,
  }
  log(`${group} | ${scenario}: ${Math.round(row.rps)} req/s, p99 ${row.p99} ms, failed ${row.failed}${exhausted ? ' (pool ran out)' : ''}`)
  return row
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
  return Math.round(kb / 1024)
}

async function rawSigning(alg: SigningAlgorithm): Promise<number> {
  const { privateKey } = await generateSigningKeyPair(alg)
  const key = { kid: 'k', alg, privateKey: KeyObject.from(privateKey) }
  let count = 0
  const seconds = RAW_SIGNING_SECONDS
  const until = Date.now() + seconds * 1000
  // As many in flight as the token endpoint would have, signed as the server signs: node:crypto on the libuv pool, using every core.
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (Date.now() < until) {
        const now = Math.floor(Date.now() / 1000)
        await signJwt(key, 'at+jwt', { sub: '1', scopes: [], iat: now, exp: now + 31_536_000 })
        count++
      }
    }),
  )
  return count / seconds
}

interface Deployment {
  env: NodeJS.ProcessEnv
  port: number
  database: TestDatabase
  dataDir: string
  base: string
}

async function deployment(dialect: 'sqlite' | 'postgres', signingAlg: SigningAlgorithm = 'RS256'): Promise<Deployment> {
  const database = await createTestDatabase(dialect)
  const dataDir = mkdtempSync(join(scratch, 'data-'))
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_SECRET: SECRET,
    PORT: String(port),
    HOST: '127.0.0.1',
    GATEHOUSE_ISSUER: `http://127.0.0.1:${port}`,
    // The benchmark measures what counting costs, not refusals.
    GATEHOUSE_RATE_LIMIT: '1000000',
    // Production defaults, a sampled access log among them.
    NODE_ENV: 'production',
    GATEHOUSE_SIGNING_ALG: signingAlg,
    // Metrics on, as by default, on a port of its own: servers of the run may overlap.
    GATEHOUSE_MANAGEMENT_PORT: '0',
  }
  delete env.REDIS_URL
  return { env, port, database, dataDir, base: `http://127.0.0.1:${port}` }
}

async function dropDeployment(d: Deployment): Promise<void> {
  await d.database.drop()
  rmSync(d.dataDir, { recursive: true, force: true })
}

/** Runs `work` with a context on the deployment's database, as the server would open it. */
async function withContext<T>(d: Deployment, work: (ctx: Awaited<ReturnType<typeof openContext>>) => Promise<T>): Promise<T> {
  const ctx = await openContext(loadConfig(d.env), createLogger(false))
  try {
    return await work(ctx)
  } finally {
    await closeContext(ctx)
  }
}

let started = 0
function startGatehouse(d: Deployment, workers: number, nodeOptions: string[] = []) {
  const args = [...nodeOptions, here('../src/cli/index.js'), 'serve', ...(workers > 1 ? ['--workers', String(workers)] : [])]
  return startProcess(args, d.env, /Gatehouse is running/, join(scratch, `gatehouse-${++started}.log`))
}

function basic(client: { clientId: string; clientSecret: string }): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')
}

const form = { 'content-type': 'application/x-www-form-urlencoded' }

function dialectName(dialect: 'sqlite' | 'postgres'): DialectLabel {
  return dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'
}

interface Seeded {
  account: BenchAccount
  service: { clientId: string; clientSecret: string }
  tokens: { accessToken: string; refreshToken: string }
  codes: Pool
  refresh: Pool
  revocable: Pool
  authorize: { cookie: string; query: string }
}

async function seedDeployment(d: Deployment): Promise<Seeded> {
  return withContext(d, async (ctx) => {
    const account = await seedAccount(ctx)
    return {
      account,
      service: await seedServiceClient(ctx, account),
      tokens: await seedTokens(ctx, account),
      codes: pool(await seedCodes(ctx, account, POOL)),
      refresh: pool(await seedIssuances(ctx, account, POOL)),
      revocable: pool(await seedIssuances(ctx, account, REVOKE_POOL)),
      authorize: await seedAuthorizeSession(ctx, account),
    }
  })
}

function refreshLoad(account: BenchAccount, refresh: Pool): Load {
  return {
    method: 'POST',
    headers: { ...form, authorization: basic(account) },
    body: bodies(refresh, (t) => `grant_type=refresh_token&refresh_token=${t}`),
    pool: refresh,
  }
}

function meLoad(accessToken: string): Load {
  return { headers: { authorization: `Bearer ${accessToken}` } }
}

function introspectionLoad(auth: string, token: string): Load {
  return { method: 'POST', headers: { ...form, authorization: auth }, body: (r) => ({ ...r, body: `token=${token}` }) }
}

/** Every request mints a new token: no pool to run out. */
function clientCredentialsLoad(auth: string, body = 'grant_type=client_credentials'): Load {
  return { method: 'POST', headers: { ...form, authorization: auth }, body: (r) => ({ ...r, body }) }
}

function codeLoad(account: BenchAccount, codes: Pool): Load {
  return {
    method: 'POST',
    headers: { ...form, authorization: basic(account) },
    body: bodies(codes, (c) => `grant_type=authorization_code&code=${c}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`),
    pool: codes,
  }
}

async function gatehouseRows(dialect: 'sqlite' | 'postgres', workers: number, signingRate: number): Promise<void> {
  const group = `Gatehouse, ${dialectName(dialect)}, ${workers === 1 ? 'one process' : `--workers ${workers}`}`
  const d = await deployment(dialect)
  try {
    const seeded = await seedDeployment(d)
    const launchedAt = Date.now()
    const server = await startGatehouse(d, workers)
    const startup = Date.now() - launchedAt
    try {
      const idle = rssMb(server.child.pid)
      const auth = basic(seeded.account)
      await measure(group, SCENARIO.me, `${d.base}/api/v2/me`, meLoad(seeded.tokens.accessToken))
      await measure(group, SCENARIO.introspection, `${d.base}/oauth/introspect`, introspectionLoad(auth, seeded.tokens.accessToken))
      const refresh = await measure(group, SCENARIO.refresh, `${d.base}/oauth/token`, refreshLoad(seeded.account, seeded.refresh))
      const code = await measure(group, SCENARIO.code, `${d.base}/oauth/token`, codeLoad(seeded.account, seeded.codes))
      await measure(group, SCENARIO.revocation, `${d.base}/oauth/revoke`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: bodies(seeded.revocable, (t) => `token=${t}&token_type_hint=refresh_token`),
        pool: seeded.revocable,
      })
      await measure(group, SCENARIO.authorize, `${d.base}/oauth/authorize?${seeded.authorize.query}`, {
        headers: { cookie: seeded.authorize.cookie },
        status: 302,
      })
      await measure(group, SCENARIO.clientCredentials, `${d.base}/oauth/token`, clientCredentialsLoad(basic(seeded.service)))
      if (workers === 1) {
        if (group === GROUP.sqlite) {
          idleMemoryMb = idle
          startupMs = startup
        }
        notes.push(
          `${group}: start-up ${startup} ms (process start to listening, migrated database); resident memory ${idle} MB idle, ${rssMb(server.child.pid)} MB after the load.`,
        )
      }
      notes.push(`${group}: refresh grant at ${pct(refresh.rps / signingRate)} and code exchange at ${pct(code.rps / signingRate)} of raw RS256 signing.`)
    } finally {
      await server.stop()
    }
  } finally {
    await dropDeployment(d)
  }
}

const ES256_SCENARIOS = [SCENARIO.me, SCENARIO.refresh, SCENARIO.code]

/** The rows the signing algorithm changes, with GATEHOUSE_SIGNING_ALG=ES256: every token is signed and checked with P-256. */
async function es256Rows(): Promise<void> {
  const d = await deployment('sqlite', 'ES256')
  try {
    const seeded = await seedDeployment(d)
    const server = await startGatehouse(d, 1)
    try {
      await measure(GROUP.es256, SCENARIO.me, `${d.base}/api/v2/me`, meLoad(seeded.tokens.accessToken))
      await measure(GROUP.es256, SCENARIO.refresh, `${d.base}/oauth/token`, refreshLoad(seeded.account, seeded.refresh))
      await measure(GROUP.es256, SCENARIO.code, `${d.base}/oauth/token`, codeLoad(seeded.account, seeded.codes))
    } finally {
      await server.stop()
    }
  } finally {
    await dropDeployment(d)
  }
}

const OBSERVABILITY_SCENARIOS = [SCENARIO.me, SCENARIO.refresh]
/** Rounds of the metrics on and off comparison: each round measures both sides, one right after the other. */
const METRICS_ROUNDS = QUICK ? 1 : 5
const METRICS_POOLS = QUICK ? 1 : 3

interface Observed {
  group: string
  d: Deployment
  server: Awaited<ReturnType<typeof startGatehouse>>
  loads: Record<string, { url: string; load: Load }>
}

async function observed(group: string, settings: NodeJS.ProcessEnv, refreshTokens: number, nodeOptions: string[] = []): Promise<Observed> {
  const d = await deployment('sqlite')
  Object.assign(d.env, settings)
  const { account, tokens, refresh } = await withContext(d, async (ctx) => {
    const account = await seedAccount(ctx)
    return { account, tokens: await seedTokens(ctx, account), refresh: pool(await seedIssuances(ctx, account, refreshTokens)) }
  })
  const server = await startGatehouse(d, 1, nodeOptions)
  return {
    group,
    d,
    server,
    loads: {
      [SCENARIO.me]: { url: `${d.base}/api/v2/me`, load: meLoad(tokens.accessToken) },
      [SCENARIO.refresh]: { url: `${d.base}/oauth/token`, load: refreshLoad(account, refresh) },
    },
  }
}

/** The middle row by throughput, answering for the failures of them all. */
function median(samples: Row[]): Row {
  const middle = [...samples].sort((a, b) => a.rps - b.rps)[Math.floor(samples.length / 2)]!
  return { ...middle, failed: samples.reduce((n, r) => n + r.failed, 0), exhausted: samples.some((r) => r.exhausted) }
}

/** Code that exists to be observed: the metrics library and Gatehouse's observability module. */
function isMetricsCode(url: string): boolean {
  return url.includes('/node_modules/prom-client/') || url.includes('/dist/src/observability/')
}

/**
 * The server's CPU spent in metrics code during one row, from a CPU profile
 * of a server of its own: a share of the same process's busy time, so a
 * machine that slows down slows both sides of the fraction alike.
 */
async function metricsShare(scenario: string): Promise<{ share: number; busyMs: number }> {
  const dir = mkdtempSync(join(scratch, 'metrics-profile-'))
  const side = await observed(GROUP.metricsOn, {}, scenario === SCENARIO.refresh ? POOL : 0, ['--cpu-prof', `--cpu-prof-dir=${dir}`])
  let window: { fromUs: number; toUs: number }
  try {
    const { url, load } = side.loads[scenario]!
    if (WARMUP > 0) await drive(url, load, WARMUP)
    const fromUs = monotonicUs()
    await drive(url, load, DURATION)
    window = { fromUs, toUs: monotonicUs() }
  } finally {
    await side.server.stop()
    await dropDeployment(side.d)
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error('the server wrote no CPU profile')
  return shareOf(JSON.parse(readFileSync(join(dir, file), 'utf8')), isMetricsCode, window)
}

/**
 * What observing costs. Metrics on (the default) and off: two servers, each
 * row measured on one and right after on the other, in rounds whose
 * order alternates; a side's row is the median of its rounds, and each round
 * gives the ratio of two figures taken a few seconds apart. This machine's
 * speed moves by more than 5% from one row to the next, so the cost is
 * also read from a CPU profile: the share of the server's own busy time
 * spent in metrics code. Then every request traced, its spans sent over
 * OTLP/HTTP to a sink in this process that reads and drops them.
 */
async function observabilityRows(): Promise<void> {
  const pooled = METRICS_POOLS * POOL
  const sides = [await observed(GROUP.metricsOn, {}, pooled), await observed(GROUP.metricsOff, { GATEHOUSE_MANAGEMENT_PORT: 'off' }, pooled)]
  const rounds = new Map<string, Map<string, Row>[]>(OBSERVABILITY_SCENARIOS.map((scenario) => [scenario, []]))
  try {
    for (let round = 0; round < METRICS_ROUNDS; round++) {
      for (const scenario of OBSERVABILITY_SCENARIOS) {
        const measured = new Map<string, Row>()
        for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
          const { url, load } = side.loads[scenario]!
          measured.set(side.group, await sample(side.group, scenario, url, load))
        }
        rounds.get(scenario)!.push(measured)
      }
    }
  } finally {
    for (const side of sides) {
      await side.server.stop()
      await dropDeployment(side.d)
    }
  }
  for (const side of sides)
    for (const scenario of OBSERVABILITY_SCENARIOS) {
      const samples = rounds.get(scenario)!.map((measured) => measured.get(side.group)!)
      record(median(samples))
    }
  for (const scenario of OBSERVABILITY_SCENARIOS) {
    const { share, busyMs } = await metricsShare(scenario)
    const pairedRatios = rounds.get(scenario)!.map((measured) => measured.get(GROUP.metricsOn)!.rps / measured.get(GROUP.metricsOff)!.rps)
    metricsCost.push({ scenario, cpuShare: share, busyMs, pairedRatios })
    log(`metrics code in ${scenario}: ${(share * 100).toFixed(1)}% of ${busyMs} ms busy; on/off by round ${pairedRatios.map((r) => r.toFixed(2)).join(', ')}`)
  }

  const sink = createServer((request, response) => {
    request.resume()
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  })
  sink.listen(0, '127.0.0.1')
  await once(sink, 'listening')
  const { port } = sink.address() as AddressInfo
  try {
    const traced = await observed(GROUP.tracing, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_TRACES_SAMPLER: 'always_on' }, POOL)
    try {
      for (const scenario of OBSERVABILITY_SCENARIOS) await measure(GROUP.tracing, scenario, traced.loads[scenario]!.url, traced.loads[scenario]!.load)
    } finally {
      await traced.server.stop()
      await dropDeployment(traced.d)
    }
  } finally {
    sink.close()
  }
}

async function growthRows(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const d = await deployment(dialect)
  try {
    const account = await withContext(d, (ctx) => seedAccount(ctx))
    let stored = 0
    for (const target of GROWTH) {
      const adding = Math.max(1, target - stored)
      const { bytes, refresh, tokens } = await withContext(d, async (ctx) => {
        const before = await storageBytes(ctx)
        log(`seeding ${adding} stored tokens on ${dialect}`)
        await fillStoredTokens(ctx, account, adding)
        const after = await storageBytes(ctx)
        return { bytes: (after - before) / adding, refresh: pool(await seedIssuances(ctx, account, POOL)), tokens: await seedTokens(ctx, account) }
      })
      stored += adding
      const server = await startGatehouse(d, 1)
      try {
        const group = growthGroup(dialectName(dialect), target)
        await measure(group, SCENARIO.me, `${d.base}/api/v2/me`, meLoad(tokens.accessToken))
        await measure(group, SCENARIO.introspection, `${d.base}/oauth/introspect`, introspectionLoad(basic(account), tokens.accessToken))
        await measure(group, SCENARIO.refresh, `${d.base}/oauth/token`, refreshLoad(account, refresh))
        notes.push(
          `${group}: ${Math.round(bytes)} bytes of database per stored token (a grant, an access-token row and a refresh-token row, with their indexes).`,
        )
      } finally {
        await server.stop()
      }
      stored += POOL
    }
  } finally {
    await dropDeployment(d)
  }
}

/** The token endpoint under load with the V8 profiler on in the server process; the profile is written when it exits. */
async function profileTokenEndpoint(): Promise<void> {
  const d = await deployment('sqlite')
  const dir = mkdtempSync(join(scratch, 'profile-'))
  try {
    const seeded = await withContext(d, async (ctx) => {
      const account = await seedAccount(ctx)
      return { account, refresh: pool(await seedIssuances(ctx, account, POOL)) }
    })
    const server = await startGatehouse(d, 1, ['--cpu-prof', `--cpu-prof-dir=${dir}`])
    try {
      await drive(`${d.base}/oauth/token`, refreshLoad(seeded.account, seeded.refresh), DURATION)
    } finally {
      await server.stop()
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
    if (!file) throw new Error('the server wrote no CPU profile')
    profile = summariseProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')))
  } finally {
    await dropDeployment(d)
  }
}

async function peerRows(): Promise<void> {
  const group = GROUP.peer
  const out = join(scratch, 'peer.json')
  const peer = await startProcess(
    [here('./oidc-peer.js')],
    { ...process.env, BENCH_PEER_OUT: out, BENCH_PEER_TOKENS: String(POOL), BENCH_PEER_REVOCABLE: String(REVOKE_POOL) },
    /listening (http:\/\/\S+)/,
    join(scratch, 'peer.log'),
    // It mints its whole pools before it listens: about a minute in the full run.
    10 * 60_000,
  )
  try {
    const base = peer.match[1]!
    const seeded = JSON.parse(readFileSync(out, 'utf8')) as {
      codes: string[]
      refreshTokens: string[]
      revocable: string[]
      client: { client_id: string; client_secret: string }
      serviceClient: { client_id: string; client_secret: string }
      redirectUri: string
    }
    const auth = 'Basic ' + Buffer.from(`${seeded.client.client_id}:${seeded.client.client_secret}`).toString('base64')
    const first = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: `grant_type=authorization_code&code=${seeded.codes.pop()}&redirect_uri=${encodeURIComponent(seeded.redirectUri)}`,
    })
    const { access_token: accessToken } = (await first.json()) as { access_token: string }
    const introspected = seeded.refreshTokens.pop()!
    const refresh = pool(seeded.refreshTokens)
    const codes = pool(seeded.codes)
    const revocable = pool(seeded.revocable)
    await measure(group, SCENARIO.jwtCheck, `${base}/jwt-check`, meLoad(accessToken))
    await measure(group, SCENARIO.introspection, `${base}/token/introspection`, introspectionLoad(auth, introspected))
    await measure(group, SCENARIO.refresh, `${base}/token`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: bodies(refresh, (t) => `grant_type=refresh_token&refresh_token=${t}`),
      pool: refresh,
    })
    await measure(group, SCENARIO.code, `${base}/token`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: bodies(codes, (c) => `grant_type=authorization_code&code=${c}&redirect_uri=${encodeURIComponent(seeded.redirectUri)}`),
      pool: codes,
    })
    await measure(group, SCENARIO.revocation, `${base}/token/revocation`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: bodies(revocable, (t) => `token=${t}&token_type_hint=refresh_token`),
      pool: revocable,
    })
    const service = { clientId: seeded.serviceClient.client_id, clientSecret: seeded.serviceClient.client_secret }
    await measure(group, SCENARIO.clientCredentials, `${base}/token`, clientCredentialsLoad(basic(service), 'grant_type=client_credentials&scope=api'))
  } finally {
    await peer.stop()
  }
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`
}

const SIGNING_BENCH_ALGORITHMS: SigningAlgorithm[] = ['RS256', 'ES256', 'EdDSA']
const RAW_SIGNING_SECONDS = QUICK ? 0.3 : 3

/*
 * Seeding costs per row, measured on a 2-core machine with other work on it:
 * stored issuances (a grant, an access token and a refresh token, hashed in
 * JavaScript), authorization codes, and tokens filled inside the database.
 */
const SEED_MS = {
  sqlite: { issuance: 0.2, code: 0.075, fill: 0.045 },
  postgres: { issuance: 0.33, code: 0.135, fill: 0.19 },
  peer: 0.4,
}
/** Start-up, migration and shutdown of a server process, roughly. */
const PROCESS_SECONDS = 3

/** How long the run will take: every measured row, plus what is seeded before it. */
function estimate(dialects: ('sqlite' | 'postgres')[]): { seconds: number; rows: number } {
  const perRow = QUICK ? 1 : WARMUP + DURATION
  const groups = dialects.reduce((n, d) => n + (QUICK && d === 'postgres' ? 1 : 2), 0)
  const measured =
    1 +
    groups * GATEHOUSE_SCENARIOS.length +
    ES256_SCENARIOS.length +
    (2 * METRICS_ROUNDS + 2) * OBSERVABILITY_SCENARIOS.length +
    6 +
    dialects.length * GROWTH.length * GROWTH_SCENARIOS.length
  let seeding = 0
  let processes = 2
  for (const d of dialects) {
    const cost = SEED_MS[d]
    const deployments = QUICK && d === 'postgres' ? 1 : 2
    seeding += deployments * (POOL * cost.code + (POOL + REVOKE_POOL) * cost.issuance)
    seeding += GROWTH.length * POOL * cost.issuance + (GROWTH[GROWTH.length - 1] ?? 0) * cost.fill
    processes += deployments + GROWTH.length
  }
  seeding += POOL * (SEED_MS.sqlite.code + SEED_MS.sqlite.issuance) + POOL * SEED_MS.sqlite.issuance
  seeding += (POOL + REVOKE_POOL) * SEED_MS.peer
  // The metrics on and off deployments, the profiled refresh one and the traced one.
  seeding += (2 * METRICS_POOLS + 2) * POOL * SEED_MS.sqlite.issuance
  processes += 7
  const seconds =
    measured * perRow + (QUICK ? 1 : DURATION) + SIGNING_BENCH_ALGORITHMS.length * RAW_SIGNING_SECONDS + seeding / 1000 + processes * PROCESS_SECONDS
  return { seconds, rows: measured }
}

try {
  const postgresSkipped = await postgresSkipReason().catch((err: unknown) => (err as Error).message)
  const dialects = postgresSkipped ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const)
  const planned = estimate([...dialects])
  log(
    `estimated duration: about ${Math.ceil(planned.seconds / 60)} min (${planned.rows} rows of ${QUICK ? `${QUICK_REQUESTS} requests` : `${WARMUP} + ${DURATION} s`}, ` +
      `${POOL.toLocaleString('en')} single-use values per pool, ${GROWTH.map((n) => n.toLocaleString('en')).join(' and ')} stored tokens on ${dialects.join(' and ')})`,
  )
  const bareServer = await startProcess([here('./bare-server.js')], process.env, /listening (http:\/\/\S+)/, join(scratch, 'bare.log'))
  try {
    await measure(GROUP.baseline, SCENARIO.bare, `${bareServer.match[1]}/bare`)
  } finally {
    await bareServer.stop()
  }
  const signing: BenchRun['signing'] = {}
  for (const alg of SIGNING_BENCH_ALGORITHMS) signing[alg] = await rawSigning(alg)
  log(
    `raw signing: ${Object.entries(signing)
      .map(([alg, n]) => `${alg} ${Math.round(n)}/s`)
      .join(', ')}`,
  )

  for (const dialect of dialects) {
    // A smoke run proves --workers once, on SQLite; the full run measures it on both.
    for (const workers of QUICK && dialect === 'postgres' ? [1] : [1, 2]) await gatehouseRows(dialect, workers, signing.RS256!)
  }
  await es256Rows()
  await observabilityRows()
  await peerRows()
  for (const dialect of dialects) if (GROWTH.length > 0) await growthRows(dialect)
  await profileTokenEndpoint()

  const run: BenchRun = {
    quick: QUICK,
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown CPU',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverage: loadavg()[0] ?? 0,
    },
    load: { connections: CONNECTIONS, warmupSeconds: WARMUP, durationSeconds: DURATION, quickRequests: QUICK_REQUESTS },
    elapsedSeconds: (Date.now() - startedAt) / 1000,
    signing,
    rows,
    growth: GROWTH,
    idleMemoryMb,
    startupMs,
    profile,
    metricsCost,
    notes,
    postgresSkipped,
  }
  log(`took ${Math.round(run.elapsedSeconds)} s (estimated ${Math.round(planned.seconds)} s)`)
  const document = renderReport(run)
  if (RESULTS)
    writeFileSync(RESULTS, JSON.stringify({ rows, goals: goals(run), profile, estimatedSeconds: planned.seconds, elapsedSeconds: run.elapsedSeconds }, null, 2))
  if (OUT) {
    mkdirSync(join(OUT, '..'), { recursive: true })
    writeFileSync(OUT, document)
    log(`written to ${OUT}`)
  }
  process.stdout.write(document + '\n')
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
