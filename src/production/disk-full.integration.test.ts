import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { seedClient, seedUser, REDIRECT, type SeededClient } from '../testing/fixtures.js'
import type { HttpClient } from '../testing/http-client.js'
import { authorizePath, browserFor, codeFor, postOAuth } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'

/** A small file system of its own, so that filling it fills nobody else's disk. */
function mountSmallDisk(): { dir: string; unmount(): void } | string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-full-disk-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    rmSync(dir, { recursive: true, force: true })
    return 'mounting a small tmpfs needs root'
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir], { stdio: 'ignore' })
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Writes a file until the disk has no space left; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (;;) writeFileSync(path, chunk, { flag: 'a' })
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC')
  }
  // Smaller than any chunk: the last few blocks.
  try {
    for (;;) writeFileSync(path, 'x', { flag: 'a' })
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC')
  }
  return path
}

const disk = mountSmallDisk()

describe('a full disk on SQLite answers 503 and reports not ready until writes succeed again', { skip: typeof disk === 'string' ? disk : false }, () => {
  let server: TestServer
  let client: SeededClient
  let browser: HttpClient

  before(async () => {
    if (typeof disk === 'string') return
    server = await startTestServer('sqlite', { databaseUrl: `sqlite:${join(disk.dir, 'gatehouse.db')}` })
    const ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    client = await seedClient(server.ctx, ada)
    browser = await browserFor(server, ada.user)
  })

  after(async () => {
    await server?.stop()
    if (typeof disk !== 'string') disk.unmount()
  })

  it('nothing written is lost, every write path answers 503 with the RFC 6749 §5.2 temporarily_unavailable, and /readyz says not ready', async () => {
    if (typeof disk === 'string') return
    const params = { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid' }
    const earlier = await codeFor(browser, params)
    const issued = await postOAuth(server, '/oauth/token', {
      grant_type: 'authorization_code',
      code: earlier,
      redirect_uri: REDIRECT,
      client_id: client.id,
      client_secret: client.secret,
    })
    assert.equal(issued.response.status, 200, JSON.stringify(issued.body))
    const code = await codeFor(browser, params)
    const exchange = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: client.id, client_secret: client.secret }
    const refresh = { grant_type: 'refresh_token', refresh_token: String(issued.body.refresh_token), client_id: client.id, client_secret: client.secret }
    assert.equal((await fetch(new URL('/readyz', server.url))).status, 200)

    const filler = fillDisk(disk.dir)
    for (const body of [exchange, refresh]) {
      const answer = await postOAuth(server, '/oauth/token', body)
      assert.equal(answer.response.status, 503, `${body.grant_type}: ${JSON.stringify(answer.body)}`)
      assert.equal(answer.body.error, 'temporarily_unavailable')
      assert.ok(answer.response.headers.get('retry-after'))
    }
    const page = await browser.get(authorizePath({ ...params, prompt: 'consent' }))
    assert.equal(page.status, 503)
    assert.match(page.headers.get('content-type') ?? '', /text\/html/)
    assert.match(await page.text(), /Temporarily unavailable/)
    // A load balancer should stop sending requests that can only fail.
    const notReady = await fetch(new URL('/readyz', server.url))
    assert.equal(notReady.status, 503)
    assert.equal(((await notReady.json()) as { status: string }).status, 'not_ready')

    rmSync(filler)
    assert.equal((await fetch(new URL('/readyz', server.url))).status, 200)
    // The failed exchange and refresh changed nothing: both still work once.
    for (const body of [exchange, refresh]) {
      const answer = await postOAuth(server, '/oauth/token', body)
      assert.equal(answer.response.status, 200, `${body.grant_type}: ${JSON.stringify(answer.body)}`)
    }
  })
})
