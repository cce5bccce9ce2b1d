import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'

/**
 * How long, and how much, a closing connection goes on reading what its
 * client still sends: as nginx's lingering close, a client that stops
 * sending is let go after `idleMs`, any client after `ms` or `bytes`.
 */
export const LINGER = { ms: 10_000, idleMs: 2_000, bytes: 8 * 1_048_576 } as const

const CHECK_EVERY_MS = 100
const lingering = new WeakSet<Socket>()

/**
 * RFC 9112 §9.6: a server that closes a connection while its client may
 * still be sending closes in stages: its own side first (the answer is then
 * on its way), then it reads on until the client closes too, and only then
 * lets go. Closed at once, with unread bytes in its buffer, the socket sends
 * a reset, which can erase the answer from the client's buffers before it
 * is read: the client sees ECONNRESET or EPIPE, not the answer. Reading on is
 * bounded in time and bytes, so a client cannot hold the connection open.
 * Call it once the socket's side is ended (or ending); Node's own full
 * close after the answer is written is cancelled.
 */
export function lingerBeforeClosing(socket: Socket): void {
  if (socket.destroyed || lingering.has(socket)) return
  lingering.add(socket)
  // Node's destroySoon() waits for 'finish' to destroy the socket; the client's last bytes would meet a closed socket.
  socket.removeListener('finish', socket.destroy)
  const startedAt = Date.now()
  const readAtStart = socket.bytesRead
  let read = readAtStart
  let lastReadAt = startedAt
  // Node's HTTP parser may read the socket itself, without 'data' events: the byte count is what tells.
  const check = setInterval(() => {
    const now = Date.now()
    if (socket.bytesRead !== read) {
      read = socket.bytesRead
      lastReadAt = now
    }
    if (read - readAtStart > LINGER.bytes || now - startedAt > LINGER.ms || now - lastReadAt > LINGER.idleMs) socket.destroy()
  }, CHECK_EVERY_MS)
  check.unref()
  socket.once('close', () => clearInterval(check))
  // The client has finished sending: nothing more can arrive to cause a reset.
  socket.once('end', () => socket.destroy())
  socket.resume()
}

/**
 * Every answer that closes its connection before the request's body was
 * read to the end (a body past the limit, a preflight, a refusal before
 * parsing) closes gracefully; so do the answers Node gives itself to a
 * request it cannot parse (400, 431) or that took too long (408).
 */
export function closeConnectionsGracefully(app: FastifyInstance): void {
  app.addHook('onResponse', (request, _reply, done) => {
    const socket = request.raw.socket as Socket | null
    if (socket && !request.raw.complete && socket.writableEnded) {
      // What is left of the body is read and dropped, whoever stopped reading it.
      request.raw.resume()
      lingerBeforeClosing(socket)
    }
    done()
  })
}

const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'Client Timeout' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'Exceeded maximum allowed HTTP header size' },
}

/** Fastify's `clientErrorHandler`: the same answer as Fastify's own to an unparsable or late request, then a graceful close. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // Node reports every further unparsable chunk of a lingering connection again.
  if (error.code === 'ECONNRESET' || socket.destroyed || lingering.has(socket)) return
  const { status, message } = CLIENT_ERRORS[error.code ?? ''] ?? { status: 400, message: 'Client Error' }
  if (socket.writable) {
    const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status })
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${body.length}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  lingerBeforeClosing(socket)
}
