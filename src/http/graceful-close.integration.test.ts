import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { HTTP_LIMITS } from '../server.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { LINGER } from './graceful-close.js'

const BODY = 100_000
const TOO_LARGE = 6 * HTTP_LIMITS.bodyLimit

interface Outcome {
  status: string
  /** Whether the answer came while the client was still sending its body. */
  early: boolean
  sent: number
  error: string | undefined
}

function connectTo(server: TestServer): Promise<Socket> {
  const url = new URL(server.url)
  // A client that goes on sending after the server's side is closed, as HTTP clients writing a body do.
  const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true })
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/**
 * Sends the head and the start of the body, waits until the answer has
 * arrived (or a while), and only then writes the rest: the moment a server
 * that closed at once would answer with a reset.
 */
async function send(server: TestServer, head: string, bodyLength: number): Promise<Outcome> {
  const socket = await connectTo(server)
  let answer = ''
  let error: string | undefined
  let sent = 0
  const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()))
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
  socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message))
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const write = (bytes: number) =>
    new Promise<void>((resolve) => {
      socket.write(Buffer.alloc(bytes, 'a'), () => resolve())
      sent += bytes
    })
  socket.write(head)
  await write(Math.min(16_384, bodyLength))
  await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, 300))])
  const early = answer !== ''
  // Paced, as a client on a real network sends: not all of it is in the server's buffers by the time it answers.
  while (sent < bodyLength && !socket.destroyed) {
    await write(Math.min(65_536, bodyLength - sent))
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  if (!socket.destroyed) socket.end()
  await closed
  return { status: answer.split('\r\n', 1)[0] ?? '', early, sent, error }
}

const head = (requestLine: string, headers: string[]) => `${requestLine}\r\nHost: gatehouse\r\n${headers.map((line) => `${line}\r\n`).join('')}\r\n`

/** Every way a token request is answered before its body is read to the end. */
const REFUSALS: { name: string; head: string; body: number; status: RegExp }[] = [
  {
    name: 'an unsupported media type',
    head: head('POST /oauth/token HTTP/1.1', ['Content-Type: text/xml', `Content-Length: ${BODY}`, 'Connection: close']),
    body: BODY,
    status: / 400 /,
  },
  {
    name: 'a body past the limit',
    head: head('POST /oauth/token HTTP/1.1', ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${TOO_LARGE}`]),
    body: TOO_LARGE,
    status: / 400 /,
  },
  {
    name: 'a chunked body past the limit',
    head:
      head('POST /oauth/token HTTP/1.1', ['Content-Type: application/json', 'Transfer-Encoding: chunked', 'Connection: close']) +
      `${TOO_LARGE.toString(16)}\r\n`,
    body: TOO_LARGE,
    status: / 400 /,
  },
  {
    name: 'a preflight with a body',
    head: head('OPTIONS /oauth/token HTTP/1.1', ['Origin: https://app.example', 'Content-Type: text/plain', `Content-Length: ${BODY}`, 'Connection: close']),
    body: BODY,
    status: / 204 /,
  },
  {
    name: 'a method the endpoint does not answer',
    head: head('PUT /oauth/token HTTP/1.1', ['Content-Type: application/x-www-form-urlencoded', `Content-Length: ${BODY}`, 'Connection: close']),
    body: BODY,
    status: / 405 /,
  },
  {
    name: 'headers past the limit',
    head: head('POST /oauth/token HTTP/1.1', [`Authorization: Basic ${'QQ'.repeat(10_000)}`, `Content-Length: ${BODY}`]),
    body: BODY,
    status: / 431 /,
  },
  {
    name: 'an unparsable header',
    head: head('POST /oauth/token HTTP/1.1', ['Content-Type: text\u0001plain', `Content-Length: ${BODY}`]),
    body: BODY,
    status: / 400 /,
  },
]

describe('RFC 9112 §9.6: a server that closes a connection first closes its side and reads on, so a client still sending gets the answer and not a reset', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer('sqlite')
  })
  after(() => server.stop())

  for (const refusal of REFUSALS) {
    it(`answers ${refusal.name} and lets the client finish sending`, async () => {
      const outcome = await send(server, refusal.head, refusal.body)
      assert.match(outcome.status, refusal.status, JSON.stringify(outcome))
      assert.equal(outcome.error, undefined, `${refusal.name}: ${JSON.stringify(outcome)}`)
      assert.equal(outcome.sent, refusal.body, 'the whole body was written')
    })
  }

  it('answers every refusal under load: ten of each at once', async () => {
    const outcomes = await Promise.all(REFUSALS.flatMap((refusal) => Array.from({ length: 10 }, () => send(server, refusal.head, refusal.body))))
    const failed = outcomes.filter((outcome, index) => outcome.error !== undefined || !REFUSALS[Math.floor(index / 10)]!.status.test(outcome.status))
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} got no answer or a reset`)
  })

  it('answers before the body when it will not read it: the refusal does not wait for the upload', async () => {
    const outcome = await send(server, REFUSALS.find((refusal) => refusal.name === 'headers past the limit')!.head, BODY)
    assert.equal(outcome.early, true)
  })

  /** Keeps writing a byte every `everyMs` after the head; resolves with how long the server read on: a fully closed socket answers the next bytes with a reset. */
  async function heldFor(everyMs: number): Promise<{ heldMs: number; answer: string }> {
    const socket = await connectTo(server)
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
    const began = Date.now()
    const letGo = new Promise<number>((resolve) => {
      socket.once('error', () => resolve(Date.now() - began))
      socket.once('close', () => resolve(Date.now() - began))
    })
    socket.write(REFUSALS.find((refusal) => refusal.name === 'an unparsable header')!.head)
    const trickle = setInterval(() => socket.write('a'), everyMs)
    const heldMs = await letGo
    clearInterval(trickle)
    socket.destroy()
    return { heldMs, answer }
  }

  it('reads on for a bounded time only: a client that stops sending is let go', async () => {
    const { heldMs, answer } = await heldFor(LINGER.idleMs + 1000)
    assert.match(answer, /^HTTP\/1\.1 400 /)
    // The reset answers the first byte sent after the server let go; the client learns of it by the next write at the latest.
    assert.ok(heldMs >= LINGER.idleMs && heldMs < LINGER.ms, `let go after ${heldMs} ms`)
  })

  it('reads on for a bounded time only: a client that trickles its body forever is let go', async () => {
    const { heldMs, answer } = await heldFor(50)
    assert.match(answer, /^HTTP\/1\.1 400 /)
    assert.ok(heldMs >= LINGER.ms - 100 && heldMs < LINGER.ms + 2000, `let go after ${heldMs} ms`)
  })

  it('reads on for a bounded number of bytes only', async () => {
    const endless = 4 * LINGER.bytes
    const outcome = await send(server, head('POST /oauth/token HTTP/1.1', ['Content-Type: text/plain', `Content-Length: ${endless}`]), endless)
    assert.match(outcome.status, / 400 /)
    assert.ok(outcome.sent < endless, `the server read ${outcome.sent} bytes`)
  })
})
