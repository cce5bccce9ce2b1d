import { randomBytes } from 'node:crypto'
import type { ActivityEvent } from '../activity/types.js'
import type { Config } from '../config.js'
import type { Keys } from '../crypto/master-key.js'
import { open } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import { listDue, putBack, removeFromQueue } from '../db/leased-queue.js'
import type { EndedSession } from '../db/sessions.js'
import { findTeamById, listMembershipsOfUser, listTeamMembers } from '../db/teams.js'
import {
  claimWebhookDelivery,
  disableWebhookEndpoint,
  insertWebhookDeliveries,
  listEnabledEndpointsOfTeams,
  recordWebhookAttempt,
  requeueWebhookDelivery,
  type ClaimedWebhookDelivery,
  type WebhookEndpointRow,
} from '../db/webhooks.js'
import type { Logger } from '../logger.js'
import type { MailQueue } from '../mail/outbox.js'
import { webhookDisabledMail } from '../mail/templates.js'
import { callOut, OutboundRefused } from '../outbound/request.js'
import { nextAttemptAt, QueueWorker, type RetryPolicy } from '../queue/worker.js'
import { eventOfActivity, payloadOf, type WebhookEvent } from './events.js'
import { signedHeaders } from './signing.js'

export interface WebhookDeps {
  db: Db
  keys: Pick<Keys, 'encryption'>
  config: Pick<Config, 'issuer' | 'webhookAllowedHosts'>
  mail: MailQueue
  log: Logger
  clock: () => number
}

export interface WebhookPolicy extends RetryPolicy {
  /** How long one POST may take. */
  timeoutMs: number
  /** How long after an event Gatehouse stops trying; an endpoint whose delivery runs out of it is disabled. */
  giveUpAfterMs: number
  /** How often each process looks for deliveries due (those of a restart, or of another process that stopped). */
  pollIntervalMs: number
}

/** Exponential backoff from 5 s to 6 h, for 3 days: about 25 attempts, as Standard Webhooks senders do. */
export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = {
  timeoutMs: 15_000,
  firstRetryDelayMs: 5_000,
  maxRetryDelayMs: 6 * 60 * 60_000,
  giveUpAfterMs: 3 * 24 * 60 * 60_000,
  pollIntervalMs: 2_000,
}

/** Deliveries claimed in one pass. */
const BATCH = 20

/** Standard Webhooks message ids: `msg_` and random; the same on every attempt, so receivers can drop repeats. */
function newDeliveryId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`
}

type Outcome = { kind: 'delivered' | 'retry'; status: number | null; error: string | null } | { kind: 'refused'; status: null; error: string }

/**
 * Sends a team's events to its webhook endpoints. Each delivery is written
 * to the database (the log and the queue) before anything is sent, then
 * sent beside the work that caused it, by whichever process claims it
 * first, after a restart too; a receiver that is down is tried again with a
 * growing wait for three days, with the same webhook-id every time.
 */
export class Webhooks {
  private readonly worker: QueueWorker<ClaimedWebhookDelivery>

  constructor(
    private readonly deps: WebhookDeps,
    private readonly policy: WebhookPolicy = DEFAULT_WEBHOOK_POLICY,
  ) {
    this.worker = new QueueWorker({
      log: deps.log,
      clock: deps.clock,
      failure: 'a webhook could not be sent',
      pollIntervalMs: policy.pollIntervalMs,
      batch: BATCH,
      // The lease outlasts one attempt's timeout, so a live process never loses a delivery it is sending.
      leaseMs: 2 * policy.timeoutMs + 1_000,
      // Each delivery waits on its own receiver: one slow endpoint holds up no other.
      sideBySide: true,
      listDue: (now, limit) => listDue(deps.db.kysely, 'webhook_outbox', now, limit),
      claim: (id, now, leaseUntil) => claimWebhookDelivery(deps.db.kysely, id, now, leaseUntil),
      attempt: (claimed) => this.attempt(claimed),
    })
  }

  /** Sends due deliveries from now on (a serving process; a command only queues). */
  start(): void {
    this.worker.start()
  }

  /** Waits for the work under way. */
  settled(): Promise<void> {
    return this.worker.settled()
  }

  /** Stops sending and waits for the attempts in flight; what is left waits in the database. */
  close(): Promise<void> {
    return this.worker.close()
  }

  /** The activity log wrote these entries: those that are webhook events are queued for their team's endpoints. */
  async activityWritten(entries: { event: ActivityEvent; at: number }[]): Promise<void> {
    for (const { event, at } of entries) {
      const webhook = eventOfActivity(event)
      if (webhook) await this.emit([webhook], at)
    }
  }

  /** Sessions ended (logout, signed out elsewhere, password changed, user disabled): told to each team of their user. */
  sessionsEnded(ended: EndedSession[]): void {
    if (ended.length === 0) return
    this.worker.beside(
      (async () => {
        for (const session of ended) {
          const teams = await listMembershipsOfUser(this.deps.db.kysely, session.userId)
          await this.emit(
            teams.map((m) => ({ type: 'session.ended', teamId: m.team.id, data: { team_id: m.team.id, user_id: session.userId, sid: session.sid } })),
            this.deps.clock(),
          )
        }
      })(),
    )
  }

  /** A user was disabled: told to each of their teams. */
  async userDisabled(userId: number): Promise<void> {
    const teams = await listMembershipsOfUser(this.deps.db.kysely, userId)
    await this.emit(
      teams.map((m) => ({ type: 'user.disabled', teamId: m.team.id, data: { team_id: m.team.id, user_id: userId } })),
      this.deps.clock(),
    )
  }

  /** Logs and queues one delivery per enabled endpoint that asked for the event, then starts sending. */
  async emit(events: WebhookEvent[], at: number): Promise<void> {
    if (events.length === 0) return
    const endpoints = await listEnabledEndpointsOfTeams(this.deps.db.kysely, [...new Set(events.map((e) => e.teamId))])
    const deliveries = events.flatMap((event) =>
      endpoints
        .filter((endpoint) => endpoint.teamId === event.teamId && endpoint.events.includes(event.type))
        .map((endpoint) => ({ id: newDeliveryId(), endpointId: endpoint.id, eventType: event.type, payload: payloadOf(event, at) })),
    )
    if (deliveries.length === 0) return
    const now = this.deps.clock()
    await this.deps.db.kysely.transaction().execute((trx) => insertWebhookDeliveries(trx, deliveries, now, now + this.policy.giveUpAfterMs))
    this.worker.wake()
  }

  /** Queues a logged delivery again, with its webhook-id; false when it is already waiting. */
  async resend(deliveryId: string): Promise<boolean> {
    const now = this.deps.clock()
    const queued = await this.deps.db.kysely.transaction().execute((trx) => requeueWebhookDelivery(trx, deliveryId, now, now + this.policy.giveUpAfterMs))
    if (queued) this.worker.wake()
    return queued
  }

  private async attempt({ delivery, endpoint, attempts, giveUpAt }: ClaimedWebhookDelivery): Promise<void> {
    const db = this.deps.db.kysely
    if (endpoint.disabledAt !== null) {
      await recordWebhookAttempt(
        db,
        delivery.id,
        { status: 'failed', responseStatus: null, latencyMs: 0, error: 'the endpoint is disabled' },
        this.deps.clock(),
      )
      return removeFromQueue(db, 'webhook_outbox', delivery.id)
    }
    const started = this.deps.clock()
    const outcome = await this.post(endpoint, delivery.id, delivery.payload)
    const now = this.deps.clock()
    const latencyMs = Math.max(0, now - started)
    if (outcome.kind === 'delivered') {
      await recordWebhookAttempt(db, delivery.id, { status: 'delivered', responseStatus: outcome.status, latencyMs, error: null }, now)
      return removeFromQueue(db, 'webhook_outbox', delivery.id)
    }
    if (outcome.kind === 'refused') {
      // Every later attempt would be refused the same way (OWASP A10:2021): failed at once, and said in the log.
      await recordWebhookAttempt(db, delivery.id, { status: 'failed', responseStatus: null, latencyMs, error: outcome.error }, now)
      await removeFromQueue(db, 'webhook_outbox', delivery.id)
      return this.deps.log.warn(
        { endpointId: endpoint.id, reason: outcome.error },
        'webhook not sent: Gatehouse does not call internal addresses unless GATEHOUSE_WEBHOOK_ALLOWED_HOSTS lists the host',
      )
    }
    const next = nextAttemptAt(this.policy, attempts, now, giveUpAt)
    await recordWebhookAttempt(
      db,
      delivery.id,
      { status: next === undefined ? 'failed' : 'pending', responseStatus: outcome.status, latencyMs, error: outcome.error },
      now,
    )
    if (next !== undefined) return putBack(db, 'webhook_outbox', delivery.id, next)
    await removeFromQueue(db, 'webhook_outbox', delivery.id)
    await this.disable(endpoint)
  }

  /** The endpoint kept failing for as long as a delivery is tried: nothing more is sent to it until an owner enables it, and the owners are told. */
  private async disable(endpoint: WebhookEndpointRow): Promise<void> {
    const now = this.deps.clock()
    const reason = `a delivery kept failing for ${Math.round(this.policy.giveUpAfterMs / 3_600_000)} hours`
    if (!(await disableWebhookEndpoint(this.deps.db.kysely, endpoint.id, reason, now))) return
    this.deps.log.warn({ endpointId: endpoint.id, teamId: endpoint.teamId }, 'webhook endpoint disabled: its deliveries kept failing')
    if (!this.deps.mail.canSend) return
    const team = await findTeamById(this.deps.db.kysely, endpoint.teamId)
    const owners = (await listTeamMembers(this.deps.db.kysely, endpoint.teamId)).filter((m) => m.role === 'owner' && !m.user.isDisabled)
    for (const { user } of owners)
      await this.deps.mail.queue({
        to: user.email,
        kind: 'webhook_disabled',
        userId: user.id,
        teamId: endpoint.teamId,
        ...webhookDisabledMail(this.deps.mail.productName, user.name, team?.name ?? 'your team', endpoint.url, this.deps.config.issuer),
      })
  }

  /** One signed POST; a redirect is not followed, and counts as a failure. */
  private async post(endpoint: WebhookEndpointRow, id: string, body: string): Promise<Outcome> {
    const secret = open(this.deps.keys.encryption, endpoint.secretEncrypted)
    const headers = signedHeaders(secret, id, Math.floor(this.deps.clock() / 1000), body)
    try {
      const answer = await callOut(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Gatehouse-Webhooks', ...headers },
        body,
        timeoutMs: this.policy.timeoutMs,
        maxBodyBytes: 0,
        allowedHosts: this.deps.config.webhookAllowedHosts,
      })
      if (answer.status >= 200 && answer.status < 300) return { kind: 'delivered', status: answer.status, error: null }
      return { kind: 'retry', status: answer.status, error: `answered ${answer.status}` }
    } catch (err) {
      if (err instanceof OutboundRefused) return { kind: 'refused', status: null, error: err.message }
      return { kind: 'retry', status: null, error: (err as Error).message }
    }
  }
}
