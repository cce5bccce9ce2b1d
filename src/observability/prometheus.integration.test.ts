import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { scrapeMetrics } from '../testing/metrics.js'
import { freePort } from '../testing/ports.js'
import { childPids, eventually, getOnNewConnection, isAlive, startGatehouse, type SpawnedServer } from '../testing/spawned.js'

const PROMETHEUS = '/usr/bin/prometheus'
const REFUSED = 7
const SERIES = 'gatehouse_http_request_duration_seconds_count{route="/api/v2/me",method="GET",status_class="4xx"}'

function prometheusMissing(): string | false {
  if (existsSync(PROMETHEUS) || process.env.CI) return false
  return 'Prometheus is not installed (apt-get install prometheus)'
}

describe('a real Prometheus scraping gatehouse serve --workers 2', { timeout: 180_000, skip: prometheusMissing() }, () => {
  let database: TestDatabase
  let dataDir: string
  let server: SpawnedServer | undefined
  let workers: number[] = []
  let management: string
  let prometheus: ChildProcess | undefined
  let prometheusUrl: string
  let prometheusLog = ''

  before(
    async () => {
      database = await createTestDatabase('sqlite')
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-prometheus-'))
      const managementPort = await freePort()
      server = await startGatehouse(
        { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_MANAGEMENT_PORT: String(managementPort) },
        { args: ['--workers', '2'] },
      )
      workers = childPids(server.pid)
      management = `http://127.0.0.1:${managementPort}`
      assert.match(server.log(), new RegExp(`^Metrics and health checks at ${management} `, 'm'))

      const prometheusPort = await freePort()
      prometheusUrl = `http://127.0.0.1:${prometheusPort}`
      const config = join(dataDir, 'prometheus.yml')
      writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          'scrape_configs:',
          '  - job_name: gatehouse',
          '    static_configs:',
          `      - targets: ['127.0.0.1:${managementPort}']`,
          '',
        ].join('\n'),
      )
      prometheus = spawn(
        PROMETHEUS,
        [`--config.file=${config}`, `--storage.tsdb.path=${join(dataDir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${prometheusPort}`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()))
      prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()))
      const ready = await eventually(30_000, 200, async () => {
        const response = await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined)
        return response?.status === 200
      })
      assert.ok(ready, `Prometheus did not become ready:\n${prometheusLog}`)
    },
    { timeout: 90_000 },
  )

  after(
    async () => {
      prometheus?.kill('SIGKILL')
      await server?.kill()
      for (const pid of workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
      await database?.drop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
    { timeout: 30_000 },
  )

  it('adds up the workers on one listener, and Prometheus reads the counter back', async () => {
    const servedBy = new Set<number>()
    for (let i = 0; i < REFUSED; i++) {
      const answer = await getOnNewConnection(`${server!.url}/api/v2/me`, {}, workers)
      assert.equal(answer.status, 401)
      if (answer.servedBy !== undefined) servedBy.add(answer.servedBy)
    }
    assert.equal(servedBy.size, 2, 'both workers answered some of the requests')

    // The primary's listener sums what each worker counted.
    const { series } = await scrapeMetrics(management)
    assert.equal(series.get(SERIES), REFUSED)
    const health = await fetch(`${management}/readyz`)
    assert.equal(health.status, 200)

    const query = `sum(gatehouse_http_request_duration_seconds_count{route="/api/v2/me",status_class="4xx"})`
    let last = ''
    const read = await eventually(30_000, 500, async () => {
      const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`)
      last = await response.text()
      const body = JSON.parse(last) as { status: string; data: { result: { value: [number, string] }[] } }
      return body.status === 'success' && body.data.result[0]?.value[1] === String(REFUSED)
    })
    assert.ok(read, `Prometheus did not report ${REFUSED}: ${last}\n${prometheusLog}`)

    const targets = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } }
    assert.deepEqual(
      targets.data.activeTargets.map((t) => [t.health, t.lastError]),
      [['up', '']],
    )
  })
})
