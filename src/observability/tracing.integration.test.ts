import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { freePort } from '../testing/ports.js'
import { createAccount, eventually, logInAt, newCode, PASSWORD, startGatehouse, type Account, type SpawnedServer } from '../testing/spawned.js'

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  boolValue?: boolean
  doubleValue?: number
}

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: { key: string; value: OtlpValue }[]
}

interface OtlpExport {
  resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[]
}

/** A collector's OTLP/HTTP traces endpoint in miniature: it keeps every span the exporter sends as JSON. */
function otlpReceiver(): { server: Server; spans: OtlpSpan[]; resources: Record<string, unknown>[]; contentTypes: Set<string> } {
  const spans: OtlpSpan[] = []
  const resources: Record<string, unknown>[] = []
  const contentTypes = new Set<string>()
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') return void response.writeHead(404).end()
      contentTypes.add(String(request.headers['content-type']))
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport
      for (const resourceSpan of body.resourceSpans) {
        resources.push(Object.fromEntries(resourceSpan.resource.attributes.map((a) => [a.key, valueOf(a.value)])))
        for (const scope of resourceSpan.scopeSpans) spans.push(...scope.spans)
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  return { server, spans, resources, contentTypes }
}

function valueOf(value: OtlpValue): unknown {
  return value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue
}

describe('OpenTelemetry traces of gatehouse serve, sent to an OTLP/HTTP receiver', { timeout: 120_000 }, () => {
  const receiver = otlpReceiver()
  let database: TestDatabase
  let dataDir: string
  let server: SpawnedServer | undefined
  let account: Account

  before(
    async () => {
      const port = await freePort()
      receiver.server.listen(port, '127.0.0.1')
      database = await createTestDatabase('sqlite')
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-tracing-'))
      const settings = { DATABASE_URL: database.url, GATEHOUSE_DATA_DIR: dataDir }
      account = await createAccount(settings, 'ada@example.com')
      server = await startGatehouse({
        ...settings,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_SERVICE_NAME: 'gatehouse-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      })
    },
    { timeout: 90_000 },
  )

  after(
    async () => {
      await server?.stop()
      await database?.drop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
      receiver.server.close()
    },
    { timeout: 30_000 },
  )

  it('continues the caller’s traceparent, nests statements and signing under the route’s span, keeps secrets out, and puts the trace id in the log', async () => {
    const browser = await logInAt(server!.url, account.email)
    const code = await newCode(browser, account)
    const traceId = randomBytes(16).toString('hex')
    const callerSpanId = randomBytes(8).toString('hex')
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: account.clientId,
      client_secret: account.clientSecret,
      code,
      redirect_uri: account.redirectUri,
    })
    const response = await fetch(`${server!.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: form.toString(),
    })
    const tokens = (await response.json()) as { access_token: string; refresh_token: string }
    assert.equal(response.status, 200)
    const me = await fetch(`${server!.url}/api/v2/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    assert.equal(me.status, 200)

    const arrived = await eventually(15_000, 100, async () => {
      const tokenSpan = receiver.spans.find((s) => s.traceId === traceId && s.name === 'POST /oauth/token')
      return tokenSpan !== undefined && receiver.spans.some((s) => s.name === 'GET /api/v2/me')
    })
    assert.ok(arrived, `spans received: ${receiver.spans.map((s) => s.name).join(', ')}`)
    assert.ok(
      [...receiver.contentTypes].every((type) => type.startsWith('application/json')),
      [...receiver.contentTypes].join(),
    )
    assert.equal(receiver.resources[0]?.['service.name'], 'gatehouse-under-test')

    const tokenSpan = receiver.spans.find((s) => s.traceId === traceId && s.name === 'POST /oauth/token')!
    assert.equal(tokenSpan.parentSpanId, callerSpanId, 'the request span continues the incoming traceparent')
    assert.equal(tokenSpan.kind, 2, 'a server span')
    const attributes = Object.fromEntries(tokenSpan.attributes.map((a) => [a.key, valueOf(a.value)]))
    assert.equal(attributes['http.route'], '/oauth/token')
    assert.equal(Number(attributes['http.response.status_code']), 200)

    const children = receiver.spans.filter((s) => s.parentSpanId === tokenSpan.spanId)
    const names = new Set(children.map((s) => s.name))
    assert.ok(names.has('select'), `children: ${[...names].join(', ')}`)
    assert.ok(names.has('sign access_token'), `children: ${[...names].join(', ')}`)
    const statement = children.find((s) => s.name === 'select')!
    assert.ok(statement.attributes.some((a) => a.key === 'db.query.text'))
    assert.ok(children.every((s) => s.traceId === traceId))

    // No span carries a secret, a cookie or a query string.
    const values = receiver.spans.flatMap((s) => s.attributes.map((a) => `${a.key}=${String(valueOf(a.value))}`))
    const secrets = [code, account.clientSecret, tokens.access_token, tokens.refresh_token, PASSWORD, ...browser.cookies.values()]
    for (const secret of secrets) assert.ok(!values.some((v) => v.includes(secret)), `a span attribute carries a secret: ${secret.slice(0, 8)}…`)
    assert.ok(!values.some((v) => /^(url\.query|url\.full|http\.request\.header\.)/.test(v)))

    // The access log line of the token request carries the trace and span it belongs to.
    await eventually(5_000, 100, async () => server!.log().includes(traceId))
    const line = server!
      .log()
      .split('\n')
      .find((l) => l.includes(traceId))
    assert.ok(line, 'a log line with the trace id')
    const logged = JSON.parse(line) as Record<string, unknown>
    assert.equal(logged.trace_id, traceId)
    assert.equal(logged.span_id, tokenSpan.spanId)
  })
})
