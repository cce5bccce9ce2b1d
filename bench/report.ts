import type { SigningAlgorithm } from '../src/keys/algorithms.js'
import type { ProfileSummary } from './profile.js'

/*
 * docs/benchmarks.md from the figures of one run: the rows, the goals of
 * the performance work stated as met or missed by ratios of rows of that
 * same run, and where the token endpoint spends its time.
 */

export interface Row {
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

export const GROUP = {
  baseline: 'Baseline',
  sqlite: 'Gatehouse, SQLite, one process',
  postgres: 'Gatehouse, PostgreSQL, one process',
  sqliteWorkers: 'Gatehouse, SQLite, --workers 2',
  postgresWorkers: 'Gatehouse, PostgreSQL, --workers 2',
  es256: 'Gatehouse, SQLite, one process, GATEHOUSE_SIGNING_ALG=ES256',
  metricsOn: 'Gatehouse, SQLite, one process, metrics on (the default), measured in turn with the next',
  metricsOff: 'Gatehouse, SQLite, one process, GATEHOUSE_MANAGEMENT_PORT=off (no metrics)',
  tracing: 'Gatehouse, SQLite, one process, OpenTelemetry tracing, every request sampled',
  peer: 'oidc-provider 8.8.1 (in-memory store)',
} as const

export const SCENARIO = {
  bare: 'bare Fastify route returning small JSON',
  me: 'GET /api/v2/me',
  introspection: 'introspection (client_secret_basic)',
  refresh: 'token: refresh_token grant (rotation)',
  code: 'token: authorization_code grant',
  revocation: 'revocation (refresh token)',
  authorize: 'GET /oauth/authorize (logged in, consent remembered)',
  clientCredentials: 'token: client_credentials grant (service client)',
  jwtCheck: 'JWT check beside the provider (no revocation)',
} as const

export type DialectLabel = 'SQLite' | 'PostgreSQL'

export function growthGroup(dialect: DialectLabel, storedTokens: number): string {
  return `Growth, ${dialect}, ${storedTokens.toLocaleString('en')} tokens stored`
}

export interface BenchRun {
  quick: boolean
  machine: { cores: number; cpu: string; memoryGiB: number; node: string; loadAverage: number }
  load: { connections: number; warmupSeconds: number; durationSeconds: number; quickRequests: number }
  /** Wall time of the whole run, start to report. */
  elapsedSeconds: number
  /** Raw signatures per second, by algorithm. */
  signing: Partial<Record<SigningAlgorithm, number>>
  rows: Row[]
  /** The stored-token counts of the growth rows, in order. */
  growth: number[]
  /** Resident memory of one idle Gatehouse process on SQLite, before any load. */
  idleMemoryMb: number | undefined
  /** From process start to listening, one process on SQLite, on a migrated database. */
  startupMs: number | undefined
  /** The token endpoint's CPU profile (refresh grant, SQLite, one process). */
  profile: ProfileSummary | undefined
  /** What metrics cost, by scenario; empty when not measured. */
  metricsCost: MetricsCost[]
  notes: string[]
  postgresSkipped: string | undefined
}

export interface MetricsCost {
  scenario: string
  /** Share of a profiled server's busy time spent in metrics code. */
  cpuShare: number
  busyMs: number
  /** Throughput with metrics over without, one ratio per round of the two measured in turn. */
  pairedRatios: number[]
}

export interface Goal {
  goal: string
  status: 'met' | 'missed' | 'not measured'
  figures: string
}

function rowOf(run: BenchRun, group: string, scenario: string): Row | undefined {
  return run.rows.find((r) => r.group === group && r.scenario === scenario)
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`
}

function times(ratio: number): string {
  return `${ratio.toFixed(2)}×`
}

function reqs(rps: number): string {
  return `${Math.round(rps)} req/s`
}

/** Keycloak's published sizing: client-credentials grants a second per vCPU, with its database. */
export const KEYCLOAK_CLIENT_CREDENTIALS_PER_VCPU = 120

/** The scenarios every Gatehouse deployment measures, in the order it measures them. */
export const GATEHOUSE_SCENARIOS = [
  SCENARIO.me,
  SCENARIO.introspection,
  SCENARIO.refresh,
  SCENARIO.code,
  SCENARIO.revocation,
  SCENARIO.authorize,
  SCENARIO.clientCredentials,
] as const

/** The read paths: what more processes should serve more of. */
export const READ_SCENARIOS = [SCENARIO.me, SCENARIO.introspection] as const

/** The scenarios of the growth rows. */
export const GROWTH_SCENARIOS = [SCENARIO.me, SCENARIO.introspection, SCENARIO.refresh] as const

/** Each goal of the performance work, as a ratio of two figures of this run. */
export function goals(run: BenchRun): Goal[] {
  const list: Goal[] = []
  const row = (group: string, scenario: string) => rowOf(run, group, scenario)
  const notMeasured = (goal: string, why: string) => list.push({ goal, status: 'not measured', figures: why })
  const ratioGoal = (goal: string, ours: Row | undefined, theirs: { rps: number; label?: string } | undefined, at: number) => {
    if (!ours || !theirs) {
      notMeasured(goal, run.postgresSkipped && goal.includes('PostgreSQL') ? run.postgresSkipped : 'a row is missing')
      return
    }
    const ratio = ours.rps / theirs.rps
    const met = ratio >= at
    list.push({
      goal,
      status: met ? 'met' : 'missed',
      figures:
        `${reqs(ours.rps)} vs ${theirs.label ?? reqs(theirs.rps)}, ${times(ratio)}` +
        (met ? '' : `; short by ${pct(1 - ratio / at)}: it needs ${reqs(theirs.rps * at)}, ${times(at / ratio)} its figure`),
    })
  }
  const { sqlite, postgres, peer } = GROUP
  ratioGoal('`/api/v2/me` ≥ 0.5× the bare Fastify route', row(sqlite, SCENARIO.me), row(GROUP.baseline, SCENARIO.bare), 0.5)
  ratioGoal('`/api/v2/me` ≥ 1.5× the JWT check beside oidc-provider', row(sqlite, SCENARIO.me), row(peer, SCENARIO.jwtCheck), 1.5)
  ratioGoal("Introspection ≥ 2× oidc-provider's", row(sqlite, SCENARIO.introspection), row(peer, SCENARIO.introspection), 2)
  ratioGoal("Revocation ≥ 1× oidc-provider's", row(sqlite, SCENARIO.revocation), row(peer, SCENARIO.revocation), 1)
  ratioGoal("Refresh grant ≥ 1.5× oidc-provider's", row(sqlite, SCENARIO.refresh), row(peer, SCENARIO.refresh), 1.5)
  ratioGoal("Code exchange ≥ 1.5× oidc-provider's", row(sqlite, SCENARIO.code), row(peer, SCENARIO.code), 1.5)
  const rs256 = run.signing.RS256
  const signing = rs256 === undefined ? undefined : { rps: rs256, label: `${Math.round(rs256)} raw RS256 signatures/s` }
  ratioGoal('Refresh grant ≥ 70% of raw RS256 signing', row(sqlite, SCENARIO.refresh), signing, 0.7)
  ratioGoal('Code exchange ≥ 70% of raw RS256 signing', row(sqlite, SCENARIO.code), signing, 0.7)
  ratioGoal("`client_credentials` ≥ 1.5× oidc-provider's", row(sqlite, SCENARIO.clientCredentials), row(peer, SCENARIO.clientCredentials), 1.5)
  const perCore = row(sqlite, SCENARIO.clientCredentials)
  ratioGoal(
    `\`client_credentials\` per core ≥ Keycloak's published ${KEYCLOAK_CLIENT_CREDENTIALS_PER_VCPU} a vCPU`,
    perCore && { ...perCore, rps: perCore.rps / run.machine.cores },
    { rps: KEYCLOAK_CLIENT_CREDENTIALS_PER_VCPU, label: `${KEYCLOAK_CLIENT_CREDENTIALS_PER_VCPU}/s a vCPU` },
    1,
  )
  for (const scenario of GATEHOUSE_SCENARIOS) {
    ratioGoal(`PostgreSQL ${scenario} ≥ 0.7× SQLite's`, row(postgres, scenario), row(sqlite, scenario), 0.7)
  }
  for (const [dialect, one, two] of [
    ['SQLite', sqlite, GROUP.sqliteWorkers],
    ['PostgreSQL', postgres, GROUP.postgresWorkers],
  ] as const) {
    for (const scenario of READ_SCENARIOS) ratioGoal(`${scenario} with --workers 2 ≥ 1.6× one process, ${dialect}`, row(two, scenario), row(one, scenario), 1.6)
  }
  // Metrics are on by default: they may cost under 5%.
  for (const [label, scenario] of [
    ['`/api/v2/me`', SCENARIO.me],
    ['Refresh grant', SCENARIO.refresh],
  ] as const) {
    const goal = `${label} with metrics on costs under 5% of the server's CPU`
    const cost = run.metricsCost.find((c) => c.scenario === scenario)
    if (!cost) {
      notMeasured(goal, 'no profile of metrics code')
      continue
    }
    const ratios = [...cost.pairedRatios].sort((a, b) => a - b)
    const throughput = 'throughput with metrics over without'
    const spread =
      ratios.length === 0
        ? ''
        : ratios.length === 1
          ? `; ${throughput}, one round: ${times(ratios[0]!)}`
          : `; ${throughput}, in ${ratios.length} rounds measured in turn: median ${times(ratios[Math.floor(ratios.length / 2)]!)}, from ${times(ratios[0]!)} to ${times(ratios[ratios.length - 1]!)}`
    list.push({
      goal,
      status: cost.cpuShare < 0.05 ? 'met' : 'missed',
      figures: `metrics code took ${(cost.cpuShare * 100).toFixed(1)}% of ${cost.busyMs} ms of busy CPU profiled during one row${spread}`,
    })
  }
  const first = run.growth[0]
  const last = run.growth[run.growth.length - 1]
  for (const dialect of ['SQLite', 'PostgreSQL'] as const) {
    for (const scenario of GROWTH_SCENARIOS) {
      const goal = `${scenario} flat within 20% from ${first?.toLocaleString('en') ?? '?'} to ${last?.toLocaleString('en') ?? '?'} stored tokens, ${dialect}`
      const from = first === undefined ? undefined : row(growthGroup(dialect, first), scenario)
      const to = last === undefined ? undefined : row(growthGroup(dialect, last), scenario)
      if (!from || !to || first === last) {
        notMeasured(goal, dialect === 'PostgreSQL' && run.postgresSkipped ? run.postgresSkipped : 'needs two growth rows')
        continue
      }
      // Flat means no slower as the tables grow; a faster later figure is run-to-run noise.
      const ratio = to.rps / from.rps
      const met = ratio >= 0.8
      list.push({
        goal,
        status: met ? 'met' : 'missed',
        figures: `${reqs(from.rps)} → ${reqs(to.rps)}, ${times(ratio)}${met ? '' : `; ${pct(1 - ratio)} slower, ${pct(0.8 - ratio)} past the 20% allowed`}`,
      })
    }
  }
  const underLimit = (goal: string, reading: number | undefined, limit: number, unit: string, of: string) => {
    if (reading === undefined) notMeasured(goal, 'no reading')
    else
      list.push({
        goal,
        status: reading < limit ? 'met' : 'missed',
        figures: `${reading} ${unit} ${of}${reading < limit ? '' : `; ${reading - limit} ${unit} over`}`,
      })
  }
  underLimit('Idle memory under 100 MB', run.idleMemoryMb, 100, 'MB', 'resident, one process on SQLite')
  underLimit('Start-up under 1 s', run.startupMs, 1000, 'ms', 'from process start to listening, one process on SQLite, database migrated')
  return list
}

function signingSection(run: BenchRun): string[] {
  const lines = ['## Signing algorithms', '']
  const raw = Object.entries(run.signing).map(([alg, perSecond]) => `${alg} **${Math.round(perSecond)}/s**`)
  lines.push(
    `Raw signing on this machine (node:crypto on the thread pool, as the server signs): ${raw.join(', ')}. The goals above are for RS256, the default.`,
    '',
  )
  lines.push('| scenario | RS256 req/s | ES256 req/s | ES256 / RS256 |', '|---|--:|--:|--:|')
  for (const scenario of [SCENARIO.me, SCENARIO.refresh, SCENARIO.code]) {
    const rs = rowOf(run, GROUP.sqlite, scenario)
    const es = rowOf(run, GROUP.es256, scenario)
    if (!rs || !es) continue
    lines.push(`| ${scenario} | ${Math.round(rs.rps)} | ${Math.round(es.rps)} | ${times(es.rps / rs.rps)} |`)
  }
  return lines
}

function profileSection(profile: ProfileSummary): string[] {
  const lines = ['## Where the token endpoint spends its time', '']
  lines.push(
    `CPU profile of the server's main thread (\`node --cpu-prof\`) during the refresh grant on SQLite, one process, RS256: ${profile.busyMs} ms busy of ${profile.totalMs} ms sampled. ` +
      'Self time is where the thread itself was; inclusive time counts every sample with a frame of that package on the stack (they overlap).',
    '',
  )
  lines.push('| package or part | self | inclusive |', '|---|--:|--:|')
  // A part with next to no self time and little on the stack says nothing; one that calls into the rest (fastify) does.
  const telling = profile.parts.filter((p) => p.self >= 0.005 || p.inclusive >= 0.05).sort((a, b) => b.self - a.self)
  for (const p of telling) lines.push(`| ${p.name} | ${pct(p.self)} | ${pct(p.inclusive)} |`)
  lines.push('', 'Functions with the most self time:', '')
  for (const f of profile.functions) lines.push(`- ${pct(f.self)} ${f.name}`)
  return lines
}

/** What the profile says about the goals that were missed: where the busy time goes. */
function missedSummary(missed: Goal[], profile: ProfileSummary | undefined): string[] {
  if (missed.length === 0) return []
  if (!profile) return ['', `${missed.length} missed; no CPU profile was taken in this run.`]
  const top = [...profile.parts]
    .filter((p) => !p.name.startsWith('('))
    .sort((a, b) => b.self - a.self)
    .slice(0, 4)
    .map((p) => `${p.name} ${pct(p.self)}`)
  return [
    '',
    `${missed.length} missed. What the token endpoint's profile shows (below): of its busy time, self time goes to ${top.join(', ')}; ` +
      `the function with the most is ${profile.functions[0]?.name ?? 'none'} (${pct(profile.functions[0]?.self ?? 0)}).`,
  ]
}

function duration(seconds: number): string {
  const minutes = Math.floor(seconds / 60)
  return minutes === 0 ? `${Math.round(seconds)} s` : `${minutes} min ${Math.round(seconds % 60)} s`
}

export function renderReport(run: BenchRun): string {
  const { machine, load } = run
  const lines: string[] = ['# Benchmarks', '']
  lines.push(
    `Measured by \`npm run bench\`${run.quick ? ' --quick (a smoke run: these figures mean nothing)' : ''} on ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node.js ${machine.node}; ` +
      `autocannon with ${load.connections} connections, ${run.quick ? `${load.quickRequests} requests a row` : `${load.warmupSeconds} s warm-up + ${load.durationSeconds} s measured`}, the load generator on the same machine. ` +
      `Every figure comes from this one run (${duration(run.elapsedSeconds)}); they move by about ±20% from run to run, so read them as ratios to rows of the same run. ` +
      `Load average when the report was written: ${machine.loadAverage.toFixed(1)}.`,
    '',
  )
  const bare = rowOf(run, GROUP.baseline, SCENARIO.bare)
  lines.push('| group | scenario | req/s | p50 ms | p99 ms | failed | vs bare route |', '|---|---|--:|--:|--:|--:|--:|')
  for (const r of run.rows) {
    lines.push(
      `| ${r.group} | ${r.scenario} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.failed}${r.exhausted ? ' (pool ran out)' : ''} | ${bare ? pct(r.rps / bare.rps) : '–'} |`,
    )
  }
  const all = goals(run)
  const met = all.filter((g) => g.status === 'met').length
  const missed = all.filter((g) => g.status === 'missed')
  lines.push(
    '',
    '## Goals',
    '',
    `RS256, one process unless stated; each a ratio of two rows above, or for metrics a share of a CPU profile. ${met} of ${all.length} met.`,
    '',
  )
  for (const g of all) lines.push(`- ${g.goal}: ${g.status === 'met' ? 'met' : `**${g.status}**`} (${g.figures}).`)
  lines.push(...missedSummary(missed, run.profile))
  lines.push('', ...signingSection(run))
  if (run.profile) lines.push('', ...profileSection(run.profile))
  lines.push('', '## Notes', '')
  for (const n of run.notes) lines.push(`- ${n}`)
  if (run.postgresSkipped) lines.push(`- PostgreSQL rows were not measured: ${run.postgresSkipped}.`)
  lines.push(
    '- Each server writes its output to a file the load generator never reads; only the start-up line is read, to know when to begin. Gatehouse runs with production defaults (`NODE_ENV=production`: one request in a hundred gets an access-log line).',
    '- oidc-provider keeps everything in process memory and stores no row for its JWT access tokens, so it cannot revoke them; every Gatehouse figure includes the database work that makes revocation take effect at once, and every issuance is persisted before it is answered.',
    "- oidc-provider's store is a plain in-memory map per model that indexes entries by grant, as its database adapters do, so revoking a grant (at revocation and refresh-token reuse) never scans the store.",
    '- The authorize row is a returning user: a logged-in portal session and an approval remembered for a third-party confidential client, answered with a redirect carrying a new code (302 is the expected status).',
    '- Revocation rows revoke a different refresh token with each request (RFC 7009, client_secret_basic).',
    '- Growth rows fill the token tables inside the database (a grant, an access token and a refresh token per stored token) before the server starts.',
    '',
  )
  return lines.join('\n')
}
