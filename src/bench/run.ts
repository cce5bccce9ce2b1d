import autocannon from 'autocannon'
import { SignJWT } from 'jose'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../config.js'
import { closeContext, createLogger, openContext } from '../server.js'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../testing/databases.js'
import { freePort, startProcess } from './processes.js'
import { REDIRECT_URI, seedAccount, seedCodes, seedIssuances, seedTokens, storageBytes, type BenchAccount } from './seed.js'

/*
 * `npm run bench`: every figure of one run, on this machine, each server in
 * a process of its own and driven in turn by autocannon from this one.
 * Figures vary by ±20% between runs; compare them only as ratios to the
 * baselines of the same run. The results go to docs/benchmarks.md.
 *
 * BENCH_DURATION / BENCH_WARMUP (s), BENCH_CONNECTIONS, BENCH_POOL (codes and
 * refresh tokens made in advance per server), BENCH_GROWTH (stored-token
 * counts, comma-separated), BENCH_OUT (the report file).
 */

const DURATION = Number(process.env.BENCH_DURATION ?? 8)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const POOL = Number(process.env.BENCH_POOL ?? 60_000)
const GROWTH = (process.env.BENCH_GROWTH ?? '10000,1000000').split(',').map(Number).filter((n) => n > 0)
const OUT = process.env.BENCH_OUT ?? 'docs/benchmarks.md'
const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

interface Row {
  group: string
  scenario: string
  rps: number
  p50: number
  p99: number
  failed: number
}

const rows: Row[] = []
const notes: string[] = []

function log(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** Hands out the next value of a pool to each request; past its end the requests fail and are counted as such. */
function bodies(pool: string[], make: (value: string) => string) {
  let next = 0
  return (request: autocannon.Request) => ({ ...request, body: make(pool[next++] ?? 'exhausted') })
}

async function drive(url: string, options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: (r: autocannon.Request) => autocannon.Request }, duration: number) {
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body ? { requests: [{ setupRequest: options.body }] } : {}),
  })
}

async function measure(group: string, scenario: string, url: string, options: Parameters<typeof drive>[1] = {}): Promise<Row> {
  if (WARMUP > 0) await drive(url, options, WARMUP)
  const result = await drive(url, options, DURATION)
  const row = { group, scenario, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failed: result.non2xx + result.errors + result.timeouts }
  rows.push(row)
  log(`${group} | ${scenario}: ${Math.round(row.rps)} req/s, p99 ${row.p99} ms, failed ${row.failed}`)
  return row
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return NaN
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
  return Math.round(kb / 1024)
}

async function rawSigning(): Promise<number> {
  const { generateKeyPair } = await import('jose')
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 })
  let count = 0
  const until = Date.now() + 3000
  // As many in flight as the token endpoint would have: WebCrypto signs on the libuv pool, using every core.
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (Date.now() < until) {
        await new SignJWT({ scopes: [] }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setSubject('1').setIssuedAt().setExpirationTime('1y').sign(privateKey)
        count++
      }
    }),
  )
  return count / 3
}

interface Deployment {
  env: NodeJS.ProcessEnv
  port: number
  database: TestDatabase
  dataDir: string
}

async function deployment(dialect: 'sqlite' | 'postgres'): Promise<Deployment> {
  const database = await createTestDatabase(dialect)
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
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
  }
  delete env.REDIS_URL
  return { env, port, database, dataDir }
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

function startGatehouse(d: Deployment, workers: number) {
  const args = [here('../cli.js'), 'serve', ...(workers > 1 ? ['--workers', String(workers)] : [])]
  return startProcess(args, d.env, /Gatehouse is running/)
}

function basic(account: BenchAccount): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(account.clientId)}:${encodeURIComponent(account.clientSecret)}`).toString('base64')
}

const form = { 'content-type': 'application/x-www-form-urlencoded' }

async function gatehouseRows(dialect: 'sqlite' | 'postgres', workers: number, signingRate: number): Promise<void> {
  const group = `Gatehouse, ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${workers === 1 ? 'one process' : `--workers ${workers}`}`
  const d = await deployment(dialect)
  try {
    const seeded = await withContext(d, async (ctx) => {
      const account = await seedAccount(ctx)
      const tokens = await seedTokens(ctx, account)
      const codes = await seedCodes(ctx, account, POOL)
      const refresh = await seedIssuances(ctx, account, POOL)
      return { account, tokens, codes, refresh }
    })
    const started = Date.now()
    const server = await startGatehouse(d, workers)
    const startupMs = Date.now() - started
    try {
      const base = `http://127.0.0.1:${d.port}`
      const idle = rssMb(server.child.pid)
      const auth = basic(seeded.account)
      await measure(group, 'GET /api/v2/me', `${base}/api/v2/me`, { headers: { authorization: `Bearer ${seeded.tokens.accessToken}` } })
      await measure(group, 'introspection (client_secret_basic)', `${base}/oauth/introspect`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: (r) => ({ ...r, body: `token=${seeded.tokens.accessToken}` }),
      })
      const refresh = await measure(group, 'token: refresh_token grant (rotation)', `${base}/oauth/token`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: bodies(seeded.refresh, (t) => `grant_type=refresh_token&refresh_token=${t}`),
      })
      const code = await measure(group, 'token: authorization_code grant', `${base}/oauth/token`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: bodies(seeded.codes, (c) => `grant_type=authorization_code&code=${c}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`),
      })
      if (workers === 1) {
        notes.push(
          `${group}: start-up ${startupMs} ms (process start to listening, migrated database); resident memory ${idle} MB idle, ${rssMb(server.child.pid)} MB after the load.`,
        )
      }
      notes.push(`${group}: refresh grant at ${((refresh.rps / signingRate) * 100).toFixed(0)}% and code exchange at ${((code.rps / signingRate) * 100).toFixed(0)}% of raw RS256 signing.`)
    } finally {
      await server.stop()
    }
  } finally {
    await d.database.drop()
    rmSync(d.dataDir, { recursive: true, force: true })
  }
}

async function growthRows(dialect: 'sqlite' | 'postgres'): Promise<void> {
  const d = await deployment(dialect)
  try {
    const account = await withContext(d, (ctx) => seedAccount(ctx))
    let stored = 0
    let tokens = await withContext(d, (ctx) => seedTokens(ctx, account))
    for (const target of GROWTH) {
      const adding = Math.max(1, target - stored)
      const { bytes, refresh } = await withContext(d, async (ctx) => {
        const before = await storageBytes(ctx)
        log(`seeding ${adding} stored tokens`)
        await seedIssuances(ctx, account, adding)
        const after = await storageBytes(ctx)
        const refresh = await seedIssuances(ctx, account, POOL)
        tokens = await seedTokens(ctx, account)
        return { bytes: (after - before) / adding, refresh }
      })
      stored += adding
      const server = await startGatehouse(d, 1)
      try {
        const base = `http://127.0.0.1:${d.port}`
        const group = `Growth, ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${target.toLocaleString('en')} tokens stored`
        await measure(group, 'GET /api/v2/me', `${base}/api/v2/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } })
        await measure(group, 'token: refresh_token grant (rotation)', `${base}/oauth/token`, {
          method: 'POST',
          headers: { ...form, authorization: basic(account) },
          body: bodies(refresh, (t) => `grant_type=refresh_token&refresh_token=${t}`),
        })
        notes.push(`${group}: ${Math.round(bytes)} bytes of database per stored token (a grant, an access-token row and a refresh-token row, with their indexes).`)
      } finally {
        await server.stop()
      }
      stored += POOL
    }
  } finally {
    await d.database.drop()
    rmSync(d.dataDir, { recursive: true, force: true })
  }
}

async function peerRows(): Promise<void> {
  const group = 'oidc-provider 8.8.1 (in-memory store)'
  const out = join(mkdtempSync(join(tmpdir(), 'gatehouse-peer-')), 'peer.json')
  const peer = await startProcess([here('./oidc-peer.js')], { ...process.env, BENCH_PEER_OUT: out, BENCH_PEER_TOKENS: String(POOL) }, /listening (http:\/\/\S+)/)
  try {
    const base = peer.match[1]!
    const seeded = JSON.parse(readFileSync(out, 'utf8')) as { codes: string[]; refreshTokens: string[]; client: { client_id: string; client_secret: string }; redirectUri: string }
    const auth = 'Basic ' + Buffer.from(`${seeded.client.client_id}:${seeded.client.client_secret}`).toString('base64')
    const first = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: `grant_type=authorization_code&code=${seeded.codes.pop()}&redirect_uri=${encodeURIComponent(seeded.redirectUri)}`,
    })
    const { access_token: accessToken } = (await first.json()) as { access_token: string }
    const introspected = seeded.refreshTokens.pop()!
    await measure(group, 'JWT check beside the provider (no revocation)', `${base}/jwt-check`, { headers: { authorization: `Bearer ${accessToken}` } })
    await measure(group, 'introspection (client_secret_basic)', `${base}/token/introspection`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: (r) => ({ ...r, body: `token=${introspected}` }),
    })
    await measure(group, 'token: refresh_token grant (rotation)', `${base}/token`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: bodies(seeded.refreshTokens, (t) => `grant_type=refresh_token&refresh_token=${t}`),
    })
    await measure(group, 'token: authorization_code grant', `${base}/token`, {
      method: 'POST',
      headers: { ...form, authorization: auth },
      body: bodies(seeded.codes, (c) => `grant_type=authorization_code&code=${c}&redirect_uri=${encodeURIComponent(seeded.redirectUri)}`),
    })
  } finally {
    await peer.stop()
    rmSync(out, { force: true })
  }
}

function find(group: string, scenario: string): Row | undefined {
  return rows.find((r) => r.group.startsWith(group) && r.scenario.startsWith(scenario))
}

function report(bare: Row, signingRate: number, postgresSkipped: string | undefined): string {
  const lines: string[] = []
  lines.push('# Benchmarks', '')
  lines.push(
    `Measured by \`npm run bench\` on ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}; ` +
      `autocannon with ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s measured, the load generator on the same machine. ` +
      'Figures move by about ±20% from run to run: read them as ratios to the baselines of this run.',
    '',
  )
  lines.push(`Raw RS256 signing (2048-bit key, jose, WebCrypto on the thread pool): **${Math.round(signingRate)} signatures/s**.`, '')
  lines.push('| group | scenario | req/s | p50 ms | p99 ms | failed | vs bare route |', '|---|---|--:|--:|--:|--:|--:|')
  for (const r of rows) {
    lines.push(`| ${r.group} | ${r.scenario} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.failed} | ${((r.rps / bare.rps) * 100).toFixed(0)}% |`)
  }
  lines.push('', '## Goals', '')
  const me = find('Gatehouse, SQLite, one', 'GET /api/v2/me')
  const refresh = find('Gatehouse, SQLite, one', 'token: refresh')
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**')
  if (me) lines.push(`- \`/api/v2/me\` ≥ 50% of the bare route: ${verdict(me.rps >= bare.rps * 0.5)} (${((me.rps / bare.rps) * 100).toFixed(0)}%).`)
  if (refresh) lines.push(`- Refresh grant ≥ 60% of raw signing: ${verdict(refresh.rps >= signingRate * 0.6)} (${((refresh.rps / signingRate) * 100).toFixed(0)}%).`)
  const pairs: [string, string, string][] = [
    ['GET /api/v2/me', 'JWT check beside the provider', '/api/v2/me against the JWT check beside oidc-provider'],
    ['introspection', 'introspection', 'introspection'],
    ['token: refresh', 'token: refresh', 'refresh grant'],
    ['token: authorization_code', 'token: authorization_code', 'code exchange'],
  ]
  for (const [ours, theirs, label] of pairs) {
    const a = find('Gatehouse, SQLite, one', ours)
    const b = find('oidc-provider', theirs)
    if (a && b) lines.push(`- Ahead of oidc-provider, ${label} (one process, SQLite): ${verdict(a.rps > b.rps)} (${Math.round(a.rps)} vs ${Math.round(b.rps)} req/s).`)
  }
  const growth = rows.filter((r) => r.group.startsWith('Growth'))
  for (const scenario of ['GET /api/v2/me', 'token: refresh']) {
    const series = growth.filter((r) => r.scenario.startsWith(scenario))
    if (series.length >= 2) {
      const first = series[0]!.rps
      const last = series[series.length - 1]!.rps
      // Flat means no slower as the tables grow; a faster later figure is run-to-run noise.
      lines.push(`- ${scenario} flat within 20% from ${GROWTH[0]!.toLocaleString('en')} to ${GROWTH[GROWTH.length - 1]!.toLocaleString('en')} stored tokens: ${verdict(last >= first * 0.8)} (${Math.round(first)} → ${Math.round(last)} req/s).`)
    }
  }
  const idle = notes.map((n) => /(\d+) MB idle/.exec(n)?.[1]).find((v) => v !== undefined)
  if (idle) lines.push(`- Idle memory under 100 MB: ${verdict(Number(idle) < 100)} (${idle} MB, one process on SQLite).`)
  lines.push('', '## Notes', '')
  for (const n of notes) lines.push(`- ${n}`)
  if (postgresSkipped) lines.push(`- PostgreSQL rows were not measured: ${postgresSkipped}.`)
  lines.push(
    '- Why `/api/v2/me` trails the bare route and the JWT check beside oidc-provider: on every call it reads the token row, the user and the team membership from the database (so revocation, a disabled user or a user who left the team take effect at once), counts the user\'s rate limit, buffers an activity-log entry, and sends the rate-limit and security headers; the bare route and the peer\'s check do none of that. With `--workers 2` the same machine serves about half as much again.',
    '- Why the token endpoint stays below raw signing and below oidc-provider: each issuance is persisted before it is answered (one indexed read, then one transaction that consumes the code or refresh token, ends the old access token and writes the new access- and refresh-token rows), and on two cores the main thread, the two signing threads and the load generator share the CPU. oidc-provider answers from process memory and writes nothing durable.',
    '- Why introspection trails oidc-provider: every answer checks the database (revocation, the user, the team membership) so that it is true at once in every process; oidc-provider looks into its own process memory.',
    '- PostgreSQL rows pay a network round trip per statement (about eight per issuance, one per API call); SQLite runs in the process. Two workers on two cores compete with the load generator for the same cores, so they help only where a request waits on the database.',
    '- oidc-provider keeps everything in process memory and stores no row for its JWT access tokens, so it cannot revoke them; every Gatehouse figure includes a database write or read per request and revocation that takes effect at once.',
    '- The token endpoint signs one RS256 JWT per request; signing runs on the libuv thread pool, so a single process uses both cores for it. Client secrets are checked with a keyed SHA-256, not a slow password hash.',
    '- `/api/v2/me` checks the signature once per token and process (then remembers it), and reads the token row, its user and the team membership in one indexed query on every request, so revocation still takes effect on the next request.',
    '',
  )
  return lines.join('\n')
}

const bareServer = await startProcess([here('./bare-server.js')], process.env, /listening (http:\/\/\S+)/)
let bare: Row
try {
  bare = await measure('Baseline', 'bare Fastify route returning small JSON', `${bareServer.match[1]}/bare`)
} finally {
  await bareServer.stop()
}
const signingRate = await rawSigning()
log(`raw RS256 signing: ${Math.round(signingRate)}/s`)

const postgresSkipped = await postgresSkipReason().catch((err: unknown) => (err as Error).message)
for (const dialect of ['sqlite', 'postgres'] as const) {
  if (dialect === 'postgres' && postgresSkipped) continue
  for (const workers of [1, 2]) await gatehouseRows(dialect, workers, signingRate)
}
await peerRows()
if (GROWTH.length > 0) await growthRows('sqlite')

const document = report(bare, signingRate, postgresSkipped)
mkdirSync(join(OUT, '..'), { recursive: true })
writeFileSync(OUT, document)
process.stdout.write(document + '\n')
process.stdout.write(`written to ${OUT}\n`)
