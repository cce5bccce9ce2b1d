import { accessSync, constants, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import type { Config } from '../config.js'
import { startTestServer, type TestServer } from './server.js'

/** Debian's package, or whatever CHROMIUM_PATH names. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Why the browser suite cannot run here, or undefined when it can. Under
 * CI=true a missing Chromium is a failure rather than a reason to skip, so a
 * broken install cannot turn the browser tests silently green.
 */
export function browserSkipReason(): string | undefined {
  const path = chromiumPath()
  if (isExecutable(path)) return undefined
  const message = `Chromium is not installed at ${path}`
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: the browser tests must run; install the chromium package or set CHROMIUM_PATH)`)
  const reason = `${message} (install the chromium package or set CHROMIUM_PATH to run the browser tests)`
  process.stdout.write(`skipping browser tests: ${reason}\n`)
  return reason
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    timeout: 60_000,
    // The machines this runs on have no outside network: without these flags
    // Chromium keeps trying to reach Google's services and its connections
    // are refused, many at a time. --no-sandbox because CI runs as root.
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  })
}

/** Chromium and a server on SQLite, started side by side: each takes seconds. */
export function startBrowserAndServer(overrides: Partial<Config> = {}, clock?: () => number): Promise<[Browser, TestServer]> {
  return Promise.all([launchChromium(), startTestServer('sqlite', overrides, clock)])
}

/** Stops what `startBrowserAndServer` started, as much of it as came up. */
export async function stopBrowserAndServer(browser: Browser | undefined, server: TestServer | undefined): Promise<void> {
  await browser?.close()
  await server?.stop()
}

/** Where screenshots of failed browser tests go, relative to the directory the tests run from. */
export const RESULTS_DIR = 'test-results'

function fileNameFor(testName: string): string {
  const slug = testName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80)
  return `${slug || 'browser-test'}-${new Date().toISOString().replace(/[:.]/g, '-')}.png`
}

/** Saves a full-page screenshot for a failed test and returns its path. */
export async function saveScreenshot(page: Page, testName: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const path = resolve(join(RESULTS_DIR, fileNameFor(testName)))
  await page.screenshot({ path, fullPage: true, timeout: 10_000 })
  return path
}

/**
 * Runs one browser test in a fresh context (no cookies shared with other
 * tests). When the test fails, a screenshot of the page as it was is saved
 * to test-results/ and the original error is rethrown.
 */
export async function withPage<T>(browser: Browser, test: { name: string }, work: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const context = await browser.newContext()
  // Bounded but generous: a loaded CI machine renders slowly, and a hanging
  // wait should fail the test with the step that hung rather than time out the file.
  context.setDefaultTimeout(15_000)
  context.setDefaultNavigationTimeout(30_000)
  const page = await context.newPage()
  try {
    return await work(page, context)
  } catch (err) {
    try {
      const path = await saveScreenshot(page, test.name)
      process.stdout.write(`screenshot of the failed test "${test.name}": ${path}\n`)
    } catch (screenshotError) {
      process.stdout.write(`no screenshot of the failed test "${test.name}": ${(screenshotError as Error).message}\n`)
    }
    throw err
  } finally {
    await context.close()
  }
}

/** Logs in through the form and waits for the page it leads to. */
export async function logIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`)
  await page.getByLabel('E-mail address').fill(email)
  await page.getByLabel('Password').fill(password)
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.getByRole('button', { name: 'Log in' }).click()])
}

/** True when the page is wider than the window, so a person has to scroll sideways to read it. */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth')
}

/** The data-testid of the element that has the keyboard focus, if it has one. */
export function focusedTestId(page: Page): Promise<string | null> {
  return page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid') ?? null")
}

/**
 * The words inside `selector` that the browser broke across two lines
 * ("Addr|ess"): each word of each text node is measured as a range, and a
 * word drawn in more than one line box was cut. Text cut short with an
 * ellipsis stays on one line and is not counted, nor is text visible to
 * screen readers only.
 */
export function wordsBrokenMidWord(page: Page, selector: string): Promise<string[]> {
  // A string, as the other page scripts here: the project compiles without the DOM's types.
  return page.evaluate<string[]>(`(() => {
    const broken = []
    for (const root of document.querySelectorAll(${JSON.stringify(selector)})) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        // Text for screen readers only (a 1-pixel box) is not read on screen.
        if (node.parentElement.getBoundingClientRect().width <= 1) continue
        for (const match of node.textContent.matchAll(/\\S+/g)) {
          const range = document.createRange()
          range.setStart(node, match.index)
          range.setEnd(node, match.index + match[0].length)
          const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)))
          if (lines.size > 1) broken.push(match[0])
        }
      }
    }
    return broken
  })()`)
}
