import { randomUUID } from 'node:crypto'
import { claimBackchannelDelivery, insertBackchannelDeliveries, type BackchannelDelivery } from '../../db/backchannel-deliveries.js'
import type { Db } from '../../db/connection.js'
import { listDue, putBack, removeFromQueue } from '../../db/leased-queue.js'
import { takeSessionClients, type EndedSession } from '../../db/sessions.js'
import type { Config } from '../../config.js'
import type { Logger } from '../../logger.js'
import { callOut, OutboundRefused } from '../../outbound/request.js'
import { nextAttemptAt, QueueWorker, type RetryPolicy } from '../../queue/worker.js'
import { signLogoutToken, type LogoutTokenDeps } from './logout-token.js'

export interface BackchannelDeps extends LogoutTokenDeps {
  db: Db
  log: Logger
  config: Pick<Config, 'issuer' | 'outboundAllowedHosts'>
  /** Hears of every session ended, as the clients do (webhooks). */
  onSessionsEnded?: (ended: EndedSession[]) => void
}

export interface DeliveryPolicy extends RetryPolicy {
  /** How long one POST may take. */
  timeoutMs: number
  /** How long after the session ended Gatehouse stops trying: the bound of the retries in time. */
  giveUpAfterMs: number
  /** How often each process looks for deliveries due (those of a restart, or of another process that stopped). */
  pollIntervalMs: number
}

export const DEFAULT_DELIVERY: DeliveryPolicy = {
  timeoutMs: 5_000,
  firstRetryDelayMs: 2_000,
  maxRetryDelayMs: 60_000,
  giveUpAfterMs: 5 * 60_000,
  pollIntervalMs: 1_000,
}

/** Deliveries claimed in one pass. */
const BATCH = 20

/**
 * Tells the clients a session signed in to that it ended (logout, the user
 * disabled, the session revoked). The deliveries are written to the
 * database, then sent beside the request that ended the session, never in
 * its way; a client that is slow or down is tried again with a growing
 * wait until `giveUpAfterMs`, by whichever process claims the delivery
 * first, after a restart too.
 */
export class BackchannelLogout {
  private readonly worker: QueueWorker<BackchannelDelivery>

  constructor(
    private readonly deps: BackchannelDeps,
    private readonly policy: DeliveryPolicy = DEFAULT_DELIVERY,
  ) {
    this.worker = new QueueWorker({
      log: deps.log,
      clock: deps.clock,
      failure: 'back-channel logout could not be sent',
      pollIntervalMs: policy.pollIntervalMs,
      batch: BATCH,
      // The lease outlasts one attempt's timeout, so a live process never loses a delivery it is sending.
      leaseMs: 2 * policy.timeoutMs + 1_000,
      // Each delivery waits on its own client: one slow client holds up no other.
      sideBySide: true,
      listDue: (now, limit) => listDue(deps.db.kysely, 'backchannel_deliveries', now, limit),
      claim: (id, now, leaseUntil) => claimBackchannelDelivery(deps.db.kysely, id, now, leaseUntil),
      attempt: (delivery) => this.attempt(delivery),
    })
  }

  /** Looks for due deliveries from now on (a serving process; a command only delivers what it ended). */
  start(): void {
    this.worker.start()
  }

  /** Records the deliveries for the ended sessions and starts sending them; returns at once. */
  sessionsEnded(ended: EndedSession[]): void {
    if (ended.length === 0) return
    this.deps.onSessionsEnded?.(ended)
    this.worker.beside(this.enqueue(ended).then(() => this.worker.pass()))
  }

  /** Waits for the work under way (a command that ends sessions, before it exits). */
  settled(): Promise<void> {
    return this.worker.settled()
  }

  /** Stops looking for deliveries and waits for the attempts in flight; what is left waits in the database. */
  close(): Promise<void> {
    return this.worker.close()
  }

  private async enqueue(ended: EndedSession[]): Promise<void> {
    const now = this.deps.clock()
    await this.deps.db.kysely.transaction().execute(async (trx) => {
      const targets = await takeSessionClients(
        trx,
        ended.map((s) => s.sid),
      )
      await insertBackchannelDeliveries(
        trx,
        targets.map((t) => ({ ...t, id: randomUUID() })),
        now,
        now + this.policy.giveUpAfterMs,
      )
    })
  }

  private async attempt(delivery: BackchannelDelivery): Promise<void> {
    const db = this.deps.db.kysely
    if (this.deps.clock() >= delivery.giveUpAt) return this.giveUp(delivery)
    // The owner removed the URL since the session ended: the client no longer asks to hear of logouts.
    if (delivery.backchannelLogoutUri === null) return removeFromQueue(db, 'backchannel_deliveries', delivery.id)
    const outcome = await this.post(delivery.backchannelLogoutUri, await signLogoutToken(this.deps, delivery))
    // §2.8: 200 (or 204) means done; a 400 means the client refused this token, and sending it again changes nothing.
    if (outcome === 'done' || outcome === 'refused') return removeFromQueue(db, 'backchannel_deliveries', delivery.id)
    if (outcome instanceof OutboundRefused) {
      // Every later attempt would be refused the same way (OWASP A10:2021): dropped, and said once, without the token.
      await removeFromQueue(db, 'backchannel_deliveries', delivery.id)
      return this.deps.log.warn(
        { clientId: delivery.clientId, uri: delivery.backchannelLogoutUri, reason: outcome.message },
        'back-channel logout not sent: Gatehouse does not call internal addresses unless GATEHOUSE_OUTBOUND_ALLOWED_HOSTS lists the host',
      )
    }
    const next = nextAttemptAt(this.policy, delivery.attempts, this.deps.clock(), delivery.giveUpAt)
    if (next === undefined) return this.giveUp(delivery)
    await putBack(db, 'backchannel_deliveries', delivery.id, next)
  }

  private async giveUp(delivery: BackchannelDelivery): Promise<void> {
    await removeFromQueue(this.deps.db.kysely, 'backchannel_deliveries', delivery.id)
    this.deps.log.warn({ clientId: delivery.clientId, attempts: delivery.attempts }, 'back-channel logout not delivered; gave up')
  }

  /** §2.5: the token POSTed as a form; a redirect is not followed, and counts as a failure. */
  private async post(uri: string, token: string): Promise<'done' | 'refused' | 'retry' | OutboundRefused> {
    try {
      const answer = await callOut(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
        timeoutMs: this.policy.timeoutMs,
        maxBodyBytes: 0,
        allowedHosts: this.deps.config.outboundAllowedHosts,
      })
      if (answer.status >= 200 && answer.status < 300) return 'done'
      return answer.status === 400 ? 'refused' : 'retry'
    } catch (err) {
      return err instanceof OutboundRefused ? err : 'retry'
    }
  }
}
