import { createServer, type Server } from 'node:http'
import { decodeJwt, type JWTPayload } from 'jose'

/**
 * A client's back-channel logout endpoint: a real HTTP server on a random
 * loopback port that keeps every logout token POSTed to it and answers with
 * the status the test sets.
 */
export class LogoutReceiver {
  /** The claims of every token received, in order (verified tests check signatures themselves). */
  readonly received: JWTPayload[] = []
  /** The status of the next answers; 200 once they are used up. */
  statuses: number[] = []
  private waiting: { done: () => boolean; resolve: () => void }[] = []
  private server: Server | undefined
  url = ''

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token')
        if (token) this.received.push(decodeJwt(token))
        res.writeHead(this.statuses.shift() ?? 200).end()
        this.waiting = this.waiting.filter((w) => (w.done() ? (w.resolve(), false) : true))
      })
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/backchannel`
    return this
  }

  /** Resolves once `count` tokens in all have arrived. */
  arrived(count: number): Promise<void> {
    return this.until(() => this.received.length >= count)
  }

  /** Resolves once a token has arrived for each of the sessions. */
  arrivedFor(sids: string[]): Promise<void> {
    return this.until(() => sids.every((sid) => this.received.some((t) => t.sid === sid)))
  }

  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve()
    return new Promise((resolve) => this.waiting.push({ done, resolve }))
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}
