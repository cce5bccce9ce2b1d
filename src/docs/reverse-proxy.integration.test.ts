import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { formField } from '../testing/html.js'
import { selfSignedCertificate } from '../testing/https.js'
import { fencedBlock, nginxSkipReason, startNginx, type RunningNginx } from '../testing/nginx.js'
import { authorizePath, consentFields, pkcePair } from '../testing/oauth.js'
import { freePort } from '../testing/ports.js'
import { createAccount, PASSWORD, sleep, startGatehouse, type Account, type SpawnedServer } from '../testing/spawned.js'

const OPERATIONS = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url))
/** The caller's own address: any 127/8 address reaches loopback, and this one is neither nginx's nor Gatehouse's. */
const CALLER = '127.0.0.2'
/** What a caller might claim to be; the proxy's configuration must not let it through. */
const FORGED = '203.0.113.9'

/** The documented nginx configuration, changed only where a test must: ports, certificate and upstream. */
function nginxConfiguration(doc: string, ports: { http: number; https: number; upstream: number }, cert: { certPath: string; keyPath: string }): string {
  let config = fencedBlock(doc, 'nginx')
  const fill = (written: RegExp, filled: string): void => {
    assert.equal(config.match(new RegExp(written.source, 'gm'))?.length, 1, `the documented configuration has one ${written.source}`)
    config = config.replace(written, filled)
  }
  fill(/^(\s*)server 127\.0\.0\.1:3000;$/m, `$1server 127.0.0.1:${ports.upstream};`)
  fill(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${ports.http};`)
  fill(/^(\s*)listen 443 ssl;$/m, `$1listen 127.0.0.1:${ports.https} ssl;`)
  fill(/^(\s*)ssl_certificate \S+;$/m, `$1ssl_certificate ${cert.certPath};`)
  fill(/^(\s*)ssl_certificate_key \S+;$/m, `$1ssl_certificate_key ${cert.keyPath};`)
  return config
}

/** A setting as the documented systemd unit sets it. */
function unitSetting(doc: string, name: string): string {
  const match = new RegExp(`^Environment=${name}=(.*)$`, 'm').exec(fencedBlock(doc, 'ini'))
  assert.ok(match, `the documented unit sets ${name}`)
  return match[1]!
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A browser at CALLER that keeps its cookies and trusts the test certificate; it claims to be FORGED in X-Forwarded-For. */
class Caller {
  private readonly cookies = new Map<string, string>()

  constructor(
    private readonly port: number,
    private readonly ca: Buffer,
  ) {}

  send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          ca: this.ca,
          localAddress: CALLER,
          headers: { 'x-forwarded-for': FORGED, ...(cookie ? { cookie } : {}), ...headers },
        },
        (response) => {
          for (const line of response.headers['set-cookie'] ?? []) {
            const [pair] = line.split(';')
            const index = pair!.indexOf('=')
            this.cookies.set(pair!.slice(0, index).trim(), pair!.slice(index + 1).trim())
          }
          let text = ''
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => (text += chunk))
          response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: text }))
        },
      )
      request.once('error', reject)
      request.end(body)
    })
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('GET', path, headers)
  }

  postForm(path: string, form: Record<string, string>): Promise<Answer> {
    return this.send('POST', path, { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams(form).toString())
  }
}

function plainGet(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path, localAddress: CALLER }, (response) => {
      response.resume()
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: '' }))
    })
      .once('error', reject)
      .end()
  })
}

const skip = nginxSkipReason()

describe('the documented nginx configuration in front of Gatehouse', { skip, timeout: 120_000 }, () => {
  const doc = readFileSync(OPERATIONS, 'utf8')
  let dir: string
  let gatehouse: SpawnedServer | undefined
  let nginx: RunningNginx | undefined
  let account: Account
  let ports: { http: number; https: number; upstream: number }
  let caller: Caller

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'))
    const certificate = selfSignedCertificate(dir)
    ports = { http: await freePort(), https: await freePort(), upstream: await freePort() }
    const settings = {
      DATABASE_URL: `sqlite:${join(dir, 'gatehouse.sqlite')}`,
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_ISSUER: `https://127.0.0.1:${ports.https}`,
      GATEHOUSE_TRUST_PROXY: unitSetting(doc, 'GATEHOUSE_TRUST_PROXY'),
    }
    gatehouse = await startGatehouse(settings, { port: ports.upstream })
    account = await createAccount(settings, 'ada@example.com')
    const config = nginxConfiguration(doc, ports, { certPath: certificate.certPath, keyPath: join(dir, 'key.pem') })
    nginx = await startNginx(join(dir, 'nginx'), config, ports.https)
    caller = new Caller(ports.https, certificate.cert)
  })

  after(async () => {
    await nginx?.stop()
    await gatehouse?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('matches the documented unit: the issuer is the proxy server name, the upstream the unit port', () => {
    assert.equal(unitSetting(doc, 'GATEHOUSE_ISSUER'), 'https://auth.example.com')
    assert.match(fencedBlock(doc, 'nginx'), /server_name auth\.example\.com;/)
    assert.match(fencedBlock(doc, 'nginx'), new RegExp(`server 127\\.0\\.0\\.1:${unitSetting(doc, 'PORT')};`))
  })

  it('sends plain HTTP to https', async () => {
    const answer = await plainGet(ports.http, '/login')
    assert.equal(answer.status, 301)
    assert.match(String(answer.headers.location), /^https:\/\//)
  })

  it('runs the code flow with PKCE through the proxy and logs the caller own address', async () => {
    const context = (): string => `\n--- gatehouse ---\n${gatehouse!.log()}\n--- nginx ---\n${nginx!.errorLog()}`
    const loginPage = await caller.get('/login')
    assert.equal(loginPage.status, 200, context())
    const login = await caller.postForm('/login', {
      email: account.email,
      password: PASSWORD,
      _csrf: formField(loginPage.body, '_csrf'),
      return_to: formField(loginPage.body, 'return_to'),
    })
    assert.equal(login.status, 303, `logging in answered ${login.status}${context()}`)

    const pkce = pkcePair()
    const request = {
      response_type: 'code',
      client_id: account.clientId,
      redirect_uri: account.redirectUri,
      state: 'through-nginx',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    }
    const consent = await caller.get(authorizePath(request))
    assert.equal(consent.status, 200, `the authorization request answered ${consent.status}${context()}`)
    const approved = await caller.postForm('/oauth/authorize', { ...consentFields(consent.body), decision: 'approve' })
    assert.equal(approved.status, 302, context())
    const back = new URL(String(approved.headers.location))
    assert.equal(back.searchParams.get('iss'), `https://127.0.0.1:${ports.https}`)
    const code = back.searchParams.get('code')
    assert.ok(code, back.href)

    const exchange = await caller.postForm('/oauth/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: account.redirectUri,
      client_id: account.clientId,
      client_secret: account.clientSecret,
      code_verifier: pkce.verifier,
    })
    assert.equal(exchange.status, 200, exchange.body)
    const token = (JSON.parse(exchange.body) as { access_token: string }).access_token

    const me = await caller.get('/api/v2/me', { authorization: `Bearer ${token}` })
    assert.equal(me.status, 200, me.body)
    assert.equal((JSON.parse(me.body) as { email: string }).email, account.email)

    // The activity log is written in the background: wait for the token's entry beside the login's.
    type Entries = { action: string; ip_address: string | null }[]
    let entries: Entries = []
    for (const deadline = Date.now() + 10_000; entries.length < 2 && Date.now() < deadline;) {
      const activities = await caller.get('/api/v2/activities', { authorization: `Bearer ${token}` })
      assert.equal(activities.status, 200, activities.body)
      entries = (JSON.parse(activities.body) as { data: Entries }).data
      if (entries.length < 2) await sleep(200)
    }
    assert.ok(entries.length >= 2, `the login and the token were recorded: ${JSON.stringify(entries)}`)
    for (const entry of entries) assert.equal(entry.ip_address, CALLER, `${entry.action} was recorded from ${entry.ip_address}, not the caller's own address`)
  })
})
