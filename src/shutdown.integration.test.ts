import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startTestServer, type TestServer } from './testing/server.js'

/** Far below the 72 s keep-alive timeout and the 30 s request timeout, far above a normal shutdown. */
const BOUND_MS = 20_000

async function openSocket(server: TestServer): Promise<{ socket: Socket; answer: () => string; closed: Promise<void> }> {
  const url = new URL(server.url)
  const socket = connect(Number(url.port), url.hostname)
  let answer = ''
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return { socket, answer: () => answer, closed }
}

function within<T>(work: Promise<T>, what: string): Promise<T | string> {
  return Promise.race([work, sleep(BOUND_MS).then(() => `${what} did not happen within ${BOUND_MS / 1000} s`)])
}

it('answers a request in flight at shutdown with Connection: close, so its keep-alive connection does not hold up the exit', async () => {
  const server = await startTestServer('sqlite', {}, undefined, { shutdownGraceMs: 60_000 })
  const { socket, answer, closed } = await openSocket(server)
  const body = 'grant_type=refresh_token&refresh_token=unknown'
  socket.write(`POST /oauth/token HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`)
  socket.write(body.slice(0, 10))
  await sleep(200)
  const stopped = server.stop().then(() => 'stopped')
  await sleep(200)
  socket.write(body.slice(10))
  try {
    assert.equal(
      await within(
        closed.then(() => 'closed'),
        'the server closing the connection',
      ),
      'closed',
    )
    assert.match(answer(), /^HTTP\/1\.1 401 /)
    assert.match(answer(), /\r\nconnection: close\r\n/i)
    assert.equal(await within(stopped, 'the shutdown'), 'stopped')
  } finally {
    // Lets a failed run end instead of waiting on the connection.
    socket.destroy()
  }
})

it('cuts the connections still open once the shutdown grace period is over, so a stalled upload cannot hold up the exit', async () => {
  const server = await startTestServer('sqlite', {}, undefined, { shutdownGraceMs: 300 })
  const { socket, closed } = await openSocket(server)
  socket.write(`POST /oauth/token HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=`)
  await sleep(200)
  try {
    assert.equal(
      await within(
        server.stop().then(() => 'stopped'),
        'the shutdown',
      ),
      'stopped',
    )
    assert.equal(
      await within(
        closed.then(() => 'closed'),
        'the stalled connection closing',
      ),
      'closed',
    )
  } finally {
    socket.destroy()
  }
})
