import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'

/** Debian's package, or whatever NGINX_PATH names. */
export function nginxPath(): string {
  return process.env.NGINX_PATH ?? '/usr/sbin/nginx'
}

/**
 * Why the reverse-proxy test cannot run here, or undefined when it can.
 * Under CI=true a missing nginx is a failure rather than a reason to skip,
 * so a broken install cannot turn the documented configuration's test green.
 */
export function nginxSkipReason(): string | undefined {
  const path = nginxPath()
  try {
    accessSync(path, constants.X_OK)
    return undefined
  } catch {
    // Not installed: the message below says what to do.
  }
  const message = `nginx is not installed at ${path}`
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: the reverse-proxy test must run; install the nginx-light package or set NGINX_PATH)`)
  const reason = `${message} (install the nginx-light package or set NGINX_PATH to run the reverse-proxy test)`
  process.stdout.write(`skipping reverse-proxy test: ${reason}\n`)
  return reason
}

/** The first fenced block of that language in a Markdown document, as written. */
export function fencedBlock(markdown: string, language: string): string {
  const match = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'm').exec(markdown)
  if (!match) throw new Error(`no \`\`\`${language} block in the document`)
  return match[1]!
}

export interface RunningNginx {
  /** Everything nginx wrote to its error log, for failure messages. */
  errorLog(): string
  stop(): Promise<void>
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

/**
 * Runs nginx in the foreground as a child of the test, with `http` (the
 * contents of an http block) and a prefix, pid file, logs and temporary
 * directories of its own under `dir`, so it touches nothing of the system's
 * nginx. Resolves once it accepts connections on `port`.
 */
export async function startNginx(dir: string, http: string, port: number): Promise<RunningNginx> {
  for (const sub of ['logs', 'temp']) mkdirSync(join(dir, sub), { recursive: true })
  const errorLog = join(dir, 'logs', 'error.log')
  writeFileSync(errorLog, '')
  const temp = (name: string): string => `${name}_temp_path ${join(dir, 'temp', name)};`
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      // One process: as root, a master would hand requests to workers running as nobody, who cannot read this directory.
      'master_process off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} info;`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${join(dir, 'logs', 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${temp(name)}`),
      http,
      '}',
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn(nginxPath(), ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const killOnExit = (): void => void child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const log = (): string => `${stderr}${readFileSync(errorLog, 'utf8')}`
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  const deadline = Date.now() + 10_000
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`nginx did not start:\n${log()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { errorLog: log, stop }
}
