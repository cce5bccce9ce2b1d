import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { addMember } from '../../accounts/teams.js'
import { createUser } from '../../accounts/users.js'
import { MESSAGES } from '../../messages.js'
import { browserSkipReason, launchChromium, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import type { TestServer } from '../../testing/server.js'
import { freePort } from '../../testing/ports.js'

const PASSWORD = 'correct horse battery'
const CLI = fileURLToPath(new URL('../../cli/index.js', import.meta.url))
const skip = browserSkipReason()

async function logInThroughForm(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`)
  await page.getByLabel('E-mail address').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
}

async function activeTeam(page: Page): Promise<string | null> {
  return page.getByTestId('active-team').textContent()
}

describe('portal login in a browser', { skip: skip ?? false, timeout: 180_000 }, () => {
  let browser: Browser
  let server: TestServer

  before(
    async () => {
      ;[browser, server] = await startBrowserAndServer()
      const now = Date.now()
      await createUser(server.ctx.db, { email: 'ada@example.com', name: 'Ada Lovelace', password: PASSWORD, teamName: 'Analytical Engines' }, now)
      await createUser(server.ctx.db, { email: 'charles@example.com', name: 'Charles', password: PASSWORD, teamName: 'Difference Engines' }, now)
      await addMember(server.ctx.db, 'Difference Engines', 'ada@example.com', 'member', now)
    },
    { timeout: 90_000 },
  )
  after(() => stopBrowserAndServer(browser, server))

  it('logs in through the form and greets the user with their active team', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await page.goto(`${server.url}/`)
      await page.waitForURL((url) => url.pathname === '/login')
      await page.getByLabel('E-mail address').fill('ada@example.com')
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor()
      assert.equal(new URL(page.url()).pathname, '/')
      assert.equal(await activeTeam(page), 'Analytical Engines')
    }),
  )

  it('switches the active team with the switcher in the header', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logInThroughForm(page, server.url, 'ada@example.com', PASSWORD)
      await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor()
      assert.equal(await activeTeam(page), 'Analytical Engines')

      const header = page.getByRole('banner')
      // Picking a team switches to it; the Switch button is there only for a browser without JavaScript.
      assert.equal(await header.getByRole('button', { name: 'Switch' }).isVisible(), false)
      await header.getByLabel('Team').selectOption({ label: 'Difference Engines' })
      await page
        .getByTestId('active-team')
        .filter({ hasText: /^Difference Engines$/ })
        .waitFor()
      assert.equal(await header.getByLabel('Team').locator('option:checked').textContent(), 'Difference Engines')

      // The choice belongs to the session, not to the page just rendered.
      await page.reload()
      assert.equal(await activeTeam(page), 'Difference Engines')
    }),
  )

  it('logs out from the menu under the user name and lands on the login page', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logInThroughForm(page, server.url, 'ada@example.com', PASSWORD)
      await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor()

      const logOut = page.getByRole('button', { name: 'Log out' })
      assert.equal(await logOut.isVisible(), false, 'the Log out button is inside the closed menu')
      await page.getByRole('navigation', { name: 'Account' }).getByText('Ada Lovelace', { exact: true }).click()
      await logOut.click()

      await page.waitForURL((url) => url.pathname === '/login')
      await page.getByRole('heading', { name: 'Log in' }).waitFor()
      await page.goto(`${server.url}/`)
      await page.waitForURL((url) => url.pathname === '/login')
      assert.equal(await page.getByText('Welcome,').count(), 0)
    }),
  )

  it('shows the error banner for a wrong password and stays logged out', { timeout: 60_000 }, (t) =>
    withPage(browser, t, async (page) => {
      await logInThroughForm(page, server.url, 'charles@example.com', 'not the password')
      const banner = page.getByRole('alert')
      await banner.waitFor()
      assert.equal((await banner.textContent())?.trim(), MESSAGES.invalid_credentials)
      assert.equal(new URL(page.url()).pathname, '/login')
      assert.equal(await page.getByLabel('E-mail address').inputValue(), 'charles@example.com')
      assert.equal(await page.getByLabel('Password').inputValue(), '')

      await page.goto(`${server.url}/`)
      await page.waitForURL((url) => url.pathname === '/login')
    }),
  )
})

interface SandboxLogin {
  loginUrl: string
  email: string
  password: string
}

/** Reads what `gatehouse serve` prints until the sandbox credentials are there. */
function readSandboxLogin(child: ChildProcess, timeoutMs: number): Promise<SandboxLogin> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    const fail = (why: string) => {
      clearTimeout(timer)
      reject(new Error(`${why}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`))
    }
    const timer = setTimeout(() => fail(`gatehouse serve printed no sandbox login within ${timeoutMs} ms`), timeoutMs)
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const loginUrl = /Log in at (\S+) with/.exec(stdout)?.[1]
      const email = /^ {2}e-mail: {3}(\S+)$/m.exec(stdout)?.[1]
      const password = /^ {2}password: (\S+)$/m.exec(stdout)?.[1]
      if (loginUrl && email && password) {
        clearTimeout(timer)
        resolve({ loginUrl, email, password })
      }
    })
    child.once('exit', (code, signal) => fail(`gatehouse serve exited (code ${code}, signal ${signal}) before printing the sandbox login`))
  })
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse serve did not exit within ${timeoutMs} ms of SIGTERM`)), timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
}

describe('first start of gatehouse serve in a browser', { skip: skip ?? false, timeout: 180_000 }, () => {
  let browser: Browser
  let dataDir: string
  let child: ChildProcess | undefined

  before(
    async () => {
      browser = await launchChromium()
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-'))
    },
    { timeout: 90_000 },
  )
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await browser?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('prints a sandbox login that works in the browser, and stops cleanly on SIGTERM', { timeout: 120_000 }, async (t) => {
    const port = await freePort()
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), GATEHOUSE_DATA_DIR: dataDir }
    // A new operator has configured nothing: whatever the test runner's
    // environment holds must not leak into the server.
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'GATEHOUSE_ISSUER', 'GATEHOUSE_SECRET', 'HOST']) delete env[name]
    // Other tests' servers run alongside: the management listener's fixed default port could be taken.
    env.GATEHOUSE_MANAGEMENT_PORT = 'off'
    child = spawn(process.execPath, [CLI, 'serve'], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] })

    const sandbox = await readSandboxLogin(child, 60_000)
    assert.equal(sandbox.loginUrl, `http://localhost:${port}/login`)
    assert.ok(existsSync(join(dataDir, 'secret.key')), 'the secret is generated into the data directory')
    assert.ok(existsSync(join(dataDir, 'gatehouse.sqlite')), 'the database file is created in the data directory')

    await withPage(browser, t, async (page) => {
      await page.goto(sandbox.loginUrl)
      await page.getByLabel('E-mail address').fill(sandbox.email)
      await page.getByLabel('Password').fill(sandbox.password)
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.getByRole('heading', { name: /^Welcome, / }).waitFor()
      assert.equal(await activeTeam(page), 'Sandbox')
    })

    child.kill('SIGTERM')
    assert.equal(await exitOf(child, 20_000), 0)
  })
})
