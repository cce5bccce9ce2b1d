import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { request as httpRequest, Agent } from 'node:http'
import { fileURLToPath } from 'node:url'
import { HttpClient, logIn } from './http-client.js'
import { codeFor } from './oauth.js'
import { freePort } from './ports.js'

/**
 * Real `gatehouse` processes for the production-mode tests: an in-process
 * server cannot be killed with SIGKILL, run as cluster workers, or share a
 * database with a second copy of itself the way a deployment does.
 */

export const CLI = fileURLToPath(new URL('../cli/index.js', import.meta.url))
/** Every process of one deployment shares the secret (the session cookie, CSRF and client-secret keys derive from it). */
export const TEST_SECRET = 'production-test-secret-0123456789-abcdef'
export const PASSWORD = 'correct horse battery'
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 15_000

export type Json = Record<string, unknown>

/** The environment of an operator who set only `settings`; nothing leaks in from the shell that runs the tests. */
export function gatehouseEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(env)) {
    if (name.startsWith('GATEHOUSE_') || ['PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL'].includes(name)) delete env[name]
  }
  // Processes run side by side: the management listener's fixed default port would clash.
  return { ...env, HOST: '127.0.0.1', GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_MANAGEMENT_PORT: 'off', ...settings }
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

// Whatever a test leaves running, ended when the test file's process ends,
// so a failed assertion never leaves a server holding a port or a database.
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

function track(child: ChildProcess): Promise<Exit> {
  running.add(child)
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  })
}

export class SpawnedServer {
  readonly url: string
  private output = ''

  constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly exited: Promise<Exit>,
  ) {
    this.url = `http://127.0.0.1:${port}`
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()))
  }

  get pid(): number {
    return this.child.pid!
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Everything it printed, for failure messages (its log has the errors behind a 500). */
  log(): string {
    return this.output
  }

  /** SIGTERM, then SIGKILL if it has not exited in time; how it exited. */
  async stop(): Promise<Exit> {
    if (this.isRunning) {
      this.child.kill('SIGTERM')
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      try {
        return await this.exited
      } finally {
        clearTimeout(timer)
      }
    }
    return this.exited
  }

  async kill(): Promise<Exit> {
    if (this.isRunning) this.child.kill('SIGKILL')
    return this.exited
  }
}

/**
 * Starts `gatehouse serve` and waits until it prints its start line and
 * answers /healthz: the SIGTERM handler is installed only after the line.
 */
export async function startGatehouse(settings: Record<string, string>, options: { port?: number; args?: string[] } = {}): Promise<SpawnedServer> {
  const port = options.port ?? (await freePort())
  const child = spawn(process.execPath, [CLI, 'serve', ...(options.args ?? [])], {
    env: gatehouseEnv({ GATEHOUSE_ISSUER: `http://127.0.0.1:${port}`, ...settings, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const server = new SpawnedServer(child, port, track(child))
  const deadline = Date.now() + START_TIMEOUT_MS
  try {
    while (!/^Gatehouse is running at /m.test(server.log())) {
      if (!server.isRunning) throw new Error(`gatehouse serve exited before it started`)
      if (Date.now() > deadline) throw new Error(`gatehouse serve did not start within ${START_TIMEOUT_MS} ms`)
      await sleep(50)
    }
    for (;;) {
      const status = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      )
      if (status === 200) break
      if (Date.now() > deadline) throw new Error(`gatehouse serve did not answer /healthz within ${START_TIMEOUT_MS} ms`)
      await sleep(50)
    }
  } catch (err) {
    await server.kill()
    throw new Error(`${(err as Error).message}\n--- output ---\n${server.log()}`, { cause: err })
  }
  return server
}

export interface Run extends Exit {
  stdout: string
  stderr: string
}

/** Runs a gatehouse command to its end; one that is still running after `timeoutMs` is killed (a `serve` that should have been refused). */
export async function runGatehouse(args: string[], settings: Record<string, string>, timeoutMs = 30_000): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { env: gatehouseEnv(settings), stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = track(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const exit = await exited
  clearTimeout(timer)
  // 'exit' can come before the last output is read.
  if (child.stdout.readable) await once(child.stdout, 'close')
  if (child.stderr.readable) await once(child.stderr, 'close')
  return { ...exit, stdout, stderr }
}

/** A gatehouse command with --json that must succeed; its one line of output, parsed. */
export async function gatehouseJson(args: string[], settings: Record<string, string>): Promise<Json> {
  const run = await runGatehouse([...args, '--json'], settings)
  assert.equal(run.code, 0, `gatehouse ${args.join(' ')} failed: ${run.stderr}`)
  return JSON.parse(run.stdout) as Json
}

export interface Account {
  email: string
  userId: number
  clientId: string
  clientSecret: string
  redirectUri: string
}

/** A user with a team and a confidential client of their own, made with the operator's command line. */
export async function createAccount(settings: Record<string, string>, email: string): Promise<Account> {
  const user = await gatehouseJson(
    ['users', 'create', '--email', email, '--name', email.split('@')[0]!, '--password', PASSWORD, '--team', `Team of ${email}`],
    settings,
  )
  const redirectUri = 'https://app.example.com/callback'
  const client = await gatehouseJson(['clients', 'create', '--owner', email, '--name', `App of ${email}`, '--redirect-uri', redirectUri], settings)
  return { email, userId: user.id as number, clientId: client.client_id as string, clientSecret: client.client_secret as string, redirectUri }
}

/** A browser logged in through the login form of the server at `baseUrl`. */
export async function logInAt(baseUrl: string, email: string): Promise<HttpClient> {
  const browser = new HttpClient(baseUrl)
  const response = await logIn(browser, email, PASSWORD)
  await response.arrayBuffer()
  assert.equal(response.status, 303, `logging in as ${email} answered ${response.status}`)
  return browser
}

/** An authorization code for the account's client, approved by the logged-in browser. */
export function newCode(browser: HttpClient, account: Account): Promise<string> {
  return codeFor(browser, { response_type: 'code', client_id: account.clientId, redirect_uri: account.redirectUri, state: 'xyz' })
}

export interface OAuthAnswer {
  status: number
  body: Json
  headers: Headers
}

/** POST to an OAuth endpoint with form parameters; never waits past `timeoutMs`. */
export async function postOAuth(
  baseUrl: string,
  path: '/oauth/token' | '/oauth/revoke',
  params: Record<string, string>,
  timeoutMs = 30_000,
): Promise<OAuthAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  let body: Json
  try {
    body = text === '' ? {} : (JSON.parse(text) as Json)
  } catch {
    throw new Error(`${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 300)}`)
  }
  return { status: response.status, body, headers: response.headers }
}

export function exchangeCode(baseUrl: string, account: Account, code: string): Promise<OAuthAnswer> {
  return postOAuth(baseUrl, '/oauth/token', {
    grant_type: 'authorization_code',
    client_id: account.clientId,
    client_secret: account.clientSecret,
    code,
    redirect_uri: account.redirectUri,
  })
}

export function refresh(baseUrl: string, account: Account, refreshToken: string): Promise<OAuthAnswer> {
  return postOAuth(baseUrl, '/oauth/token', {
    grant_type: 'refresh_token',
    client_id: account.clientId,
    client_secret: account.clientSecret,
    refresh_token: refreshToken,
  })
}

export interface TokenPair {
  access_token: string
  refresh_token: string
}

/** The tokens of a 200 token response; fails with the error otherwise. */
export function tokensOf(answer: OAuthAnswer): TokenPair {
  assert.equal(answer.status, 200, `token request answered ${answer.status}: ${JSON.stringify(answer.body)}`)
  return { access_token: answer.body.access_token as string, refresh_token: answer.body.refresh_token as string }
}

/** GET /api/v2/me with the token; status and parsed body. */
export async function me(baseUrl: string, token: string, timeoutMs = 30_000): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(`${baseUrl}/api/v2/me`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) })
  const text = await response.text()
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Json), headers: response.headers }
}

/** The protected header of a JWS. */
export function jwtHeader(token: string): { kid?: string; alg?: string } {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid?: string; alg?: string }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls until `check` returns true or the time is up; how long it took, or undefined when it never did. */
export async function timeUntil(ms: number, everyMs: number, check: () => Promise<boolean>): Promise<number | undefined> {
  const start = Date.now()
  for (;;) {
    if (await check()) return Date.now() - start
    if (Date.now() - start > ms) return undefined
    await sleep(everyMs)
  }
}

/** Polls until `check` returns true; false when the time ran out first. */
export async function eventually(ms: number, everyMs: number, check: () => Promise<boolean>): Promise<boolean> {
  return (await timeUntil(ms, everyMs, check)) !== undefined
}

/** The ids of the live child processes of `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // The command name in parentheses may hold spaces: the fields after it are fixed.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) === pid && fields[0] !== 'Z') children.push(Number(entry))
    } catch {
      // The process ended while we looked.
    }
  }
  return children.sort((a, b) => a - b)
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Which of `pids` holds the server end of the TCP connection from client port `clientPort` to `serverPort` (Linux /proc). */
export function processServing(serverPort: number, clientPort: number, pids: number[]): number | undefined {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0')
  let inode: string | undefined
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      if (fields.length < 10) continue
      if (fields[1]!.endsWith(`:${hex(serverPort)}`) && fields[2]!.endsWith(`:${hex(clientPort)}`)) inode = fields[9]
    }
  }
  if (inode === undefined || inode === '0') return undefined
  for (const pid of pids) {
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid
      } catch {
        // The descriptor closed while we looked.
      }
    }
  }
  return undefined
}

/**
 * A GET on a connection of its own, so that node:cluster hands it to the
 * next worker; reports which of `workerPids` answered, found while the
 * connection is still open.
 */
export function getOnNewConnection(
  url: string,
  headers: Record<string, string>,
  workerPids: number[],
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; servedBy: number | undefined }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { agent, headers, timeout: 15_000 }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => {
        const target = new URL(url)
        const servedBy = processServing(Number(target.port), request.socket!.localPort!, workerPids)
        agent.destroy()
        resolve({ status: response.statusCode!, headers: response.headers, body, servedBy })
      })
    })
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)))
    request.on('error', (err) => {
      agent.destroy()
      reject(err)
    })
    request.end()
  })
}
