import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { HTTP_LIMITS } from '../server.js'
import { startTestServer, type TestServer } from '../testing/server.js'

/** Short, so the test does not wait the real 30 s; the rule is the same. */
const REQUEST_TIMEOUT_MS = 2000
/** Node checks for expired requests four times per timeout here (once a second at the real 30 s); some room for a busy machine. */
const SLACK_MS = 1500

/** Sends the start of a request and nothing more; how long until the server closed the connection, and what it said. */
function stall(server: TestServer, start: string): Promise<{ afterMs: number; answer: string }> {
  const url = new URL(server.url)
  return new Promise((resolve, reject) => {
    const began = Date.now()
    let answer = ''
    const socket = connect(Number(url.port), url.hostname, () => socket.write(start))
    const giveUp = setTimeout(() => {
      socket.destroy()
      reject(new Error(`still open after ${REQUEST_TIMEOUT_MS + SLACK_MS} ms`))
    }, REQUEST_TIMEOUT_MS + SLACK_MS)
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(giveUp)
      resolve({ afterMs: Date.now() - began, answer })
    })
  })
}

describe('a stalled request is cut at the request timeout (slow senders: OWASP Denial of Service cheat sheet)', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer('sqlite', {}, undefined, { requestTimeoutMs: REQUEST_TIMEOUT_MS })
  })

  after(async () => {
    await server?.stop()
  })

  it("the default is the README's 30 s, headers included", () => {
    assert.equal(HTTP_LIMITS.requestTimeout, 30_000)
  })

  it('unfinished headers are answered 408 and the connection closed', async () => {
    const { afterMs, answer } = await stall(server, 'POST /oauth/token HTTP/1.1\r\nHost: gatehouse\r\n')
    assert.ok(afterMs >= REQUEST_TIMEOUT_MS - 100, `cut after ${afterMs} ms`)
    assert.match(answer, /^HTTP\/1\.1 408 /)
  })

  it('a body that stops arriving is answered 408 and the connection closed', async () => {
    const { afterMs, answer } = await stall(
      server,
      'POST /oauth/token HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\ngrant_type=',
    )
    assert.ok(afterMs >= REQUEST_TIMEOUT_MS - 100, `cut after ${afterMs} ms`)
    assert.match(answer, /^HTTP\/1\.1 408 /)
  })

  it('the server applies the timeout to headers too', () => {
    assert.equal(server.app.server.headersTimeout, REQUEST_TIMEOUT_MS)
    assert.equal(server.app.server.requestTimeout, REQUEST_TIMEOUT_MS)
  })
})
