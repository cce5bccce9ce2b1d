import autocannon from 'autocannon'
import { SignJWT } from 'jose'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../config.js'
import { closeContext, createLogger, openContext } from '../server.js'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../testing/databases.js'
import { summariseProfile, type ProfileSummary } from './profile.js'
import { freePort, startProcess } from './processes.js'
import {
  REDIRECT_URI,
  fillStoredTokens,
  seedAccount,
  seedAuthorizeSession,
  seedCodes,
  seedIssuances,
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
const GROWTH = (process.env.BENCH_GROWTH ?? (QUICK ? '1000' : '10000,1000000'))
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
const OUT = process.env.BENCH_OUT ?? (QUICK ? undefined : 'docs/benchmarks.md')
const RESULTS = process.env.BENCH_RESULTS
const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))

interface Row {
  group: string
  scenario: string
  rps: number
  p50: number
  p99: number
  /** Answers other than the expected status, errors and timeouts. */
  failed: number
  /** True when the pool of single-use values ran out during the row. */
  exhausted: boolean
}

const rows: Row[] = []
const notes: string[] = []
let profile: ProfileSummary | undefined

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
  rows.push(row)
  log(`${group} | ${scenario}: ${Math.round(row.rps)} req/s, p99 ${row.p99} ms, failed ${row.failed}${exhausted ? ' (pool ran out)' : ''}`)
  return row
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
  return Math.round(kb / 1024)
}

async function rawSigning(alg: 'RS256' | 'ES256'): Promise<number> {
  const { generateKeyPair } = await import('jose')
  const { privateKey } = await generateKeyPair(alg, { modulusLength: 2048 })
  let count = 0
  const seconds = QUICK ? 0.3 : 3
  const until = Date.now() + seconds * 1000
  // As many in flight as the token endpoint would have: WebCrypto signs on the libuv pool, using every core.
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (Date.now() < until) {
        await new SignJWT({ scopes: [] }).setProtectedHeader({ alg, kid: 'k' }).setSubject('1').setIssuedAt().setExpirationTime('1y').sign(privateKey)
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

async function deployment(dialect: 'sqlite' | 'postgres'): Promise<Deployment> {
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
  const args = [...nodeOptions, here('../cli.js'), 'serve', ...(workers > 1 ? ['--workers', String(workers)] : [])]
  return startProcess(args, d.env, /Gatehouse is running/, join(scratch, `gatehouse-${++started}.log`))
}

function basic(account: BenchAccount): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(account.clientId)}:${encodeURIComponent(account.clientSecret)}`).toString('base64')
}

const form = { 'content-type': 'application/x-www-form-urlencoded' }

function dialectName(dialect: 'sqlite' | 'postgres'): string {
  return dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'
}

interface Seeded {
  account: BenchAccount
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

async function gatehouseRows(dialect: 'sqlite' | 'postgres', workers: number, signingRate: number): Promise<void> {
  const group = `Gatehouse, ${dialectName(dialect)}, ${workers === 1 ? 'one process' : `--workers ${workers}`}`
  const d = await deployment(dialect)
  try {
    const seeded = await seedDeployment(d)
    const startedAt = Date.now()
    const server = await startGatehouse(d, workers)
    const startupMs = Date.now() - startedAt
    try {
      const idle = rssMb(server.child.pid)
      const auth = basic(seeded.account)
      await measure(group, 'GET /api/v2/me', `${d.base}/api/v2/me`, meLoad(seeded.tokens.accessToken))
      await measure(group, 'introspection (client_secret_basic)', `${d.base}/oauth/introspect`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: (r) => ({ ...r, body: `token=${seeded.tokens.accessToken}` }),
      })
      const refresh = await measure(group, 'token: refresh_token grant (rotation)', `${d.base}/oauth/token`, refreshLoad(seeded.account, seeded.refresh))
      const code = await measure(group, 'token: authorization_code grant', `${d.base}/oauth/token`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: bodies(seeded.codes, (c) => `grant_type=authorization_code&code=${c}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`),
        pool: seeded.codes,
      })
      await measure(group, 'revocation (refresh token)', `${d.base}/oauth/revoke`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: bodies(seeded.revocable, (t) => `token=${t}&token_type_hint=refresh_token`),
        pool: seeded.revocable,
      })
      await measure(group, 'GET /oauth/authorize (logged in, consent remembered)', `${d.base}/oauth/authorize?${seeded.authorize.query}`, {
        headers: { cookie: seeded.authorize.cookie },
        status: 302,
      })
      if (workers === 1) {
        notes.push(
          `${group}: start-up ${startupMs} ms (process start to listening, migrated database); resident memory ${idle} MB idle, ${rssMb(server.child.pid)} MB after the load.`,
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
        const group = `Growth, ${dialectName(dialect)}, ${target.toLocaleString('en')} tokens stored`
        await measure(group, 'GET /api/v2/me', `${d.base}/api/v2/me`, meLoad(tokens.accessToken))
        await measure(group, 'token: refresh_token grant (rotation)', `${d.base}/oauth/token`, refreshLoad(account, refresh))
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
  const group = 'oidc-provider 8.8.1 (in-memory store)'
  const out = join(scratch, 'peer.json')
  const peer = await startProcess(
    [here('./oidc-peer.js')],
    { ...process.env, BENCH_PEER_OUT: out, BENCH_PEER_TOKENS: String(POOL), BENCH_PEER_REVOCABLE: String(REVOKE_POOL) },
    /listening (http:\/\/\S+)/,
    join(scratch, 'peer.log'),
  )
  try {
    const base = peer.match[1]!
    const seeded = JSON.parse(readFileSync(out, 'utf8')) as {
      codes: string[]
      refreshTokens: string[]
      revocable: string[]
      client: { client_id: string; client_secret: string }
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
    await measure(group, 'JWT check beside the provider (no revocation)', `${base}/jwt-check`, meLoad(accessToken))
    await measure(group, 'introspection (client_secret_basic)', `${base}/token/introspection`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: (r) => ({ ...r, body: `token=${introspected}` }),
    })
    await measure(group, 'token: refresh_token grant (rotation)', `${base}/token`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: bodies(refresh, (t) => `grant_type=refresh_token&refresh_token=${t}`),
      pool: refresh,
    })
    await measure(group, 'token: authorization_code grant', `${base}/token`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: bodies(codes, (c) => `grant_type=authorization_code&code=${c}&redirect_uri=${encodeURIComponent(seeded.redirectUri)}`),
      pool: codes,
    })
    await measure(group, 'revocation (refresh token)', `${base}/token/revocation`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: bodies(revocable, (t) => `token=${t}&token_type_hint=refresh_token`),
      pool: revocable,
    })
  } finally {
    await peer.stop()
  }
}

function find(group: string, scenario: string): Row | undefined {
  return rows.find((r) => r.group.startsWith(group) && r.scenario.startsWith(scenario))
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`
}

interface Goal {
  goal: string
  met: boolean
  figures: string
}

function goals(bare: Row): Goal[] {
  const list: Goal[] = []
  const ratioGoal = (goal: string, ours: Row | undefined, theirs: Row | undefined, at: number) => {
    if (!ours || !theirs) return
    const ratio = ours.rps / theirs.rps
    list.push({
      goal,
      met: ratio >= at,
      figures: `${Math.round(ours.rps)} vs ${Math.round(theirs.rps)} req/s, ${ratio.toFixed(2)}×${ratio >= at ? '' : `, short by ${pct(1 - ratio / at)}`}`,
    })
  }
  const sqlite = (s: string) => find('Gatehouse, SQLite, one process', s)
  const postgres = (s: string) => find('Gatehouse, PostgreSQL, one process', s)
  const peer = (s: string) => find('oidc-provider', s)
  ratioGoal('`/api/v2/me` ≥ 0.5× the bare Fastify route', sqlite('GET /api/v2/me'), bare, 0.5)
  ratioGoal('`/api/v2/me` ≥ 1.5× the JWT check beside oidc-provider', sqlite('GET /api/v2/me'), peer('JWT check'), 1.5)
  ratioGoal('Introspection ≥ 2× oidc-provider', sqlite('introspection'), peer('introspection'), 2)
  ratioGoal('Refresh grant ≥ 1.2× oidc-provider', sqlite('token: refresh'), peer('token: refresh'), 1.2)
  ratioGoal('Code exchange ≥ 1.2× oidc-provider', sqlite('token: authorization_code'), peer('token: authorization_code'), 1.2)
  ratioGoal('Revocation ≥ 1× oidc-provider', sqlite('revocation'), peer('revocation'), 1)
  ratioGoal('PostgreSQL refresh grant ≥ 0.7× SQLite (one process)', postgres('token: refresh'), sqlite('token: refresh'), 0.7)
  ratioGoal('PostgreSQL `/api/v2/me` ≥ 0.7× SQLite (one process)', postgres('GET /api/v2/me'), sqlite('GET /api/v2/me'), 0.7)
  for (const dialect of ['SQLite', 'PostgreSQL']) {
    for (const scenario of ['GET /api/v2/me', 'token: refresh']) {
      const series = rows.filter((r) => r.group.startsWith(`Growth, ${dialect},`) && r.scenario.startsWith(scenario))
      if (series.length < 2) continue
      const first = series[0]!.rps
      const last = series[series.length - 1]!.rps
      // Flat means no slower as the tables grow; a faster later figure is run-to-run noise.
      list.push({
        goal: `${scenario} flat within 20% from ${GROWTH[0]!.toLocaleString('en')} to ${GROWTH[GROWTH.length - 1]!.toLocaleString('en')} stored tokens, ${dialect}`,
        met: last >= first * 0.8,
        figures: `${Math.round(first)} → ${Math.round(last)} req/s, ${(last / first).toFixed(2)}×`,
      })
    }
  }
  const idle = notes.map((n) => /(\d+) MB idle/.exec(n)?.[1]).find((v) => v !== undefined)
  if (idle) list.push({ goal: 'Idle memory under 100 MB', met: Number(idle) < 100, figures: `${idle} MB, one process on SQLite` })
  return list
}

function report(bare: Row, signing: Record<string, number>, postgresSkipped: string | undefined): string {
  const lines: string[] = []
  lines.push('# Benchmarks', '')
  const [load1] = loadavg()
  lines.push(
    `Measured by \`npm run bench\`${QUICK ? ' --quick (a smoke run: these figures mean nothing)' : ''} on ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}; ` +
      `autocannon with ${CONNECTIONS} connections, ${QUICK ? `${QUICK_REQUESTS} requests a row` : `${WARMUP} s warm-up + ${DURATION} s measured`}, the load generator on the same machine. ` +
      `Every figure comes from this one run; they move by about ±20% from run to run, so read them as ratios to rows of the same run. Load average when the report was written: ${load1!.toFixed(1)}.`,
    '',
  )
  lines.push(
    `Raw signing (jose, WebCrypto on the thread pool): RS256 (2048-bit) **${Math.round(signing.RS256!)}/s**, ES256 **${Math.round(signing.ES256!)}/s**.`,
    '',
  )
  lines.push('| group | scenario | req/s | p50 ms | p99 ms | failed | vs bare route |', '|---|---|--:|--:|--:|--:|--:|')
  for (const r of rows) {
    lines.push(
      `| ${r.group} | ${r.scenario} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.failed}${r.exhausted ? ' (pool ran out)' : ''} | ${pct(r.rps / bare.rps)} |`,
    )
  }
  lines.push('', '## Goals (RS256, one process unless stated)', '')
  for (const g of goals(bare)) lines.push(`- ${g.goal}: ${g.met ? 'met' : '**missed**'} (${g.figures}).`)
  if (profile) {
    lines.push('', '## Where the token endpoint spends its time', '')
    lines.push(
      `CPU profile of the server's main thread (\`node --cpu-prof\`) during the refresh grant on SQLite, one process: ${profile.busyMs} ms busy of ${profile.totalMs} ms sampled. ` +
        'Share of busy time with a frame of each part on the stack (inclusive; they overlap), and where the time itself is spent (self):',
      '',
    )
    lines.push('| part | inclusive | self |', '|---|--:|--:|')
    for (const p of profile.parts) lines.push(`| ${p.name} | ${pct(p.inclusive)} | ${pct(p.self)} |`)
    lines.push('', 'Functions with the most self time:', '')
    for (const f of profile.functions) lines.push(`- ${pct(f.self)} ${f.name}`)
  }
  lines.push('', '## Notes', '')
  for (const n of notes) lines.push(`- ${n}`)
  if (postgresSkipped) lines.push(`- PostgreSQL rows were not measured: ${postgresSkipped}.`)
  lines.push(
    '- Each server writes its output to a file the load generator never reads; only the start-up line is read, to know when to begin. Gatehouse runs with production defaults (`NODE_ENV=production`: one request in a hundred gets an access-log line).',
    '- oidc-provider keeps everything in process memory and stores no row for its JWT access tokens, so it cannot revoke them; every Gatehouse figure includes the database work that makes revocation take effect at once, and every issuance is persisted before it is answered.',
    '- The authorize row is a returning user: a logged-in portal session and an approval remembered for a third-party confidential client, answered with a redirect carrying a new code (302 is the expected status).',
    '- Revocation rows revoke a different refresh token with each request (RFC 7009, client_secret_basic).',
    '- Growth rows fill the token tables inside the database (a grant, an access token and a refresh token per stored token) before the server starts.',
    '',
  )
  return lines.join('\n')
}

try {
  const bareServer = await startProcess([here('./bare-server.js')], process.env, /listening (http:\/\/\S+)/, join(scratch, 'bare.log'))
  let bare: Row
  try {
    bare = await measure('Baseline', 'bare Fastify route returning small JSON', `${bareServer.match[1]}/bare`)
  } finally {
    await bareServer.stop()
  }
  const signing = { RS256: await rawSigning('RS256'), ES256: await rawSigning('ES256') }
  log(`raw signing: RS256 ${Math.round(signing.RS256)}/s, ES256 ${Math.round(signing.ES256)}/s`)

  const postgresSkipped = await postgresSkipReason().catch((err: unknown) => (err as Error).message)
  for (const dialect of ['sqlite', 'postgres'] as const) {
    if (dialect === 'postgres' && postgresSkipped) continue
    // A smoke run proves --workers once, on SQLite; the full run measures it on both.
    for (const workers of QUICK && dialect === 'postgres' ? [1] : [1, 2]) await gatehouseRows(dialect, workers, signing.RS256)
  }
  await peerRows()
  if (GROWTH.length > 0) {
    await growthRows('sqlite')
    if (!postgresSkipped) await growthRows('postgres')
  }
  await profileTokenEndpoint()

  const document = report(bare, signing, postgresSkipped)
  if (RESULTS) writeFileSync(RESULTS, JSON.stringify({ rows, goals: goals(bare), profile }, null, 2))
  if (OUT) {
    mkdirSync(join(OUT, '..'), { recursive: true })
    writeFileSync(OUT, document)
    log(`written to ${OUT}`)
  }
  process.stdout.write(document + '\n')
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
