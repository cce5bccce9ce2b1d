import { createServer, type Server } from 'node:http'
import { Webhook } from 'standardwebhooks'

export interface ReceivedWebhook {
  id: string
  /** The payload, parsed once the signature was verified by the standardwebhooks package. */
  payload: { type: string; timestamp: string; data: Record<string, unknown> }
}

/**
 * A team's webhook endpoint: a real HTTP server on a loopback port that
 * verifies every delivery with the published Standard Webhooks library,
 * keeps those that verify, and answers with the status the test sets (401
 * to a delivery that does not verify). It can be stopped and started again
 * on the same port, as a receiver that is down for a while.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = []
  /** Deliveries whose signature did not verify. */
  rejected = 0
  /** The status of the next answers; 204 once they are used up. */
  statuses: number[] = []
  secret = ''
  private waiting: { done: () => boolean; resolve: () => void }[] = []
  private server: Server | undefined
  private port = 0

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]))
        try {
          const payload = new Webhook(this.secret).verify(body, headers) as ReceivedWebhook['payload']
          this.received.push({ id: headers['webhook-id']!, payload })
          res.writeHead(this.statuses.shift() ?? 204).end()
        } catch {
          this.rejected++
          res.writeHead(401).end()
        }
        this.waiting = this.waiting.filter((w) => (w.done() ? (w.resolve(), false) : true))
      })
    })
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve))
    this.port = (this.server.address() as { port: number }).port
    return this
  }

  /** Resolves once `count` deliveries in all have arrived and verified. */
  arrived(count: number): Promise<void> {
    if (this.received.length >= count) return Promise.resolve()
    return new Promise((resolve) => this.waiting.push({ done: () => this.received.length >= count, resolve }))
  }

  /** Down: the port refuses connections until `start` again. */
  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}
