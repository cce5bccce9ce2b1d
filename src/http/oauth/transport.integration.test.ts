import assert from 'node:assert/strict'
import { request as httpRequest, Agent } from 'node:http'
import { connect } from 'node:net'
import { randomBytes, randomInt } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { seedClient, seedUser, PASSWORD } from '../../testing/fixtures.js'
import { basicAuth, postOAuth } from '../../testing/oauth.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const MACHINE_ENDPOINTS = ['/oauth/token', '/oauth/revoke', '/oauth/introspect'] as const

/** The status line of an HTTP response, read off a raw socket. */
function statusOf(answer: string): string {
  return answer.split('\r\n', 1)[0] ?? ''
}

describe('OAuth endpoints over HTTP', () => {
  let server: TestServer
  let app: { id: string; secret: string }

  before(async () => {
    server = await startTestServer('sqlite')
    const owner = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    app = await seedClient(server.ctx, owner, { name: 'First-party app', isFirstParty: true })
  })
  after(() => server.stop())

  it('answers other methods than POST on the token, revocation and introspection endpoints with 405, Allow: POST and RFC 6749 JSON (RFC 9110 §15.5.6)', async () => {
    for (const path of MACHINE_ENDPOINTS) {
      for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
        const response = await fetch(new URL(path, server.url), {
          method,
          ...(method === 'PUT' || method === 'PATCH' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' } : {}),
        })
        const what = `${method} ${path}`
        assert.equal(response.status, 405, what)
        assert.equal(response.headers.get('allow'), 'POST', what)
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/, what)
        assert.equal(response.headers.get('cache-control'), 'no-store', what)
        const body = (await response.json()) as Record<string, unknown>
        assert.equal(body.error, 'invalid_request', what)
        assert.equal(typeof body.error_description, 'string', what)
      }
      const head = await fetch(new URL(path, server.url), { method: 'HEAD' })
      assert.equal(head.status, 405, `HEAD ${path}`)
      assert.equal(head.headers.get('allow'), 'POST', `HEAD ${path}`)
    }
  })

  it('refuses a client secret, code or refresh token in the query string of a token request with invalid_request (RFC 6749 §3.2)', async () => {
    const grant = { grant_type: 'password', username: 'ada@example.com', password: PASSWORD }
    const auth = { authorization: basicAuth(app.id, app.secret) }
    const fine = await postOAuth(server, '/oauth/token', grant, auth)
    assert.equal(fine.response.status, 200, JSON.stringify(fine.body))

    for (const query of [`client_secret=${encodeURIComponent(app.secret)}`, 'code=abc', 'refresh_token=abc', `password=${encodeURIComponent(PASSWORD)}`]) {
      const path = `/oauth/token?${query}` as '/oauth/token'
      const refused = await postOAuth(server, path, grant, auth)
      assert.equal(refused.response.status, 400, query)
      assert.equal(refused.body.error, 'invalid_request', query)
      assert.match(String(refused.body.error_description), /query string/, query)
    }
    const revoke = await postOAuth(server, '/oauth/revoke?token=abc' as '/oauth/revoke', { token: 'abc' }, auth)
    assert.equal(revoke.response.status, 400, 'the revocation endpoint refuses a token in the query string too')
  })

  it('answers an unreadable request only after reading its whole body, so a client still sending it gets the answer and not a reset', async () => {
    const body = randomBytes(100_000)
    const url = new URL(server.url)
    const socket = connect(Number(url.port), url.hostname)
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(`POST /oauth/token HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`)
    socket.write(body.subarray(0, 50_000))
    // Waiting is not measured here: any answer that arrives before the rest of the body is sent is the bug.
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(answer, '', 'no answer while the body is still being sent')
    socket.end(body.subarray(50_000))
    await closed
    assert.equal(statusOf(answer), 'HTTP/1.1 400 Bad Request')
    assert.match(answer, /"error":"invalid_request"/)
  })

  it('answers every one of 400 concurrent random token requests: forms, JSON and text up to 100 KB, any content type, any Basic credentials', async () => {
    const types = [
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=utf-8',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'text/xml',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      ';;',
      undefined,
    ]
    function randomBody(): Buffer {
      const size = randomInt(100_000)
      switch (randomInt(3)) {
        case 0:
          return Buffer.from(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: randomBytes(size >> 1).toString('hex') }).toString())
        case 1:
          return Buffer.from(JSON.stringify({ grant_type: 'authorization_code', code: randomBytes(size >> 1).toString('hex') }))
        default:
          return randomBytes(size)
      }
    }
    // Connection: close on every request, as single-shot clients send it: the server closes after each answer.
    const agent = new Agent({ keepAlive: false, maxSockets: 50 })
    function send(): Promise<number | string> {
      const body = randomBody()
      const headers: Record<string, string | number> = { 'content-length': body.length }
      const type = types[randomInt(types.length)]
      if (type !== undefined) headers['content-type'] = type
      if (randomInt(2) === 1) headers.authorization = `Basic ${randomBytes(randomInt(1, 80)).toString('base64')}`
      return new Promise((resolve) => {
        const url = new URL('/oauth/token', server.url)
        const req = httpRequest(url, { method: 'POST', headers, agent }, (response) => {
          response.resume()
          response.on('end', () => resolve(response.statusCode ?? 'no status'))
          response.on('error', (err: NodeJS.ErrnoException) => resolve(`${err.code ?? err.message} while reading the answer to ${type}`))
        })
        req.on('error', (err: NodeJS.ErrnoException) => resolve(`${err.code ?? err.message} for ${type}`))
        req.end(body)
      })
    }
    const outcomes = await Promise.all(Array.from({ length: 400 }, send))
    agent.destroy()
    const unanswered = outcomes.filter((outcome) => typeof outcome !== 'number')
    assert.deepEqual(unanswered, [], `${unanswered.length} of 400 requests got no HTTP answer`)
    assert.ok(
      outcomes.every((status) => status === 400 || status === 401),
      `only 400 and 401 answers: ${[...new Set(outcomes)].join(', ')}`,
    )
  })
})
