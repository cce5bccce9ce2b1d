import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { ActivityLog } from '../activity/recorder.js'
import type { Config } from '../config.js'
import type { Keys } from '../crypto/master-key.js'
import { open, seal } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import { listDue, putBack, removeFromQueue } from '../db/leased-queue.js'
import { claimMail, insertMail, type ClaimedMail } from '../db/mail-outbox.js'
import type { Logger } from '../logger.js'
import { Refusal } from '../messages.js'
import { nextAttemptAt, QueueWorker, type RetryPolicy } from '../queue/worker.js'
import { fileTransport, smtpTransport, type MailBody, type Transport } from './transport.js'
import { inSpan } from '../observability/tracing.js'

/** What a mail is for: the activity log's and the logs' word for it. */
export type MailKind = 'password_reset' | 'password_changed' | 'email_verification' | 'email_change' | 'email_change_notice' | (string & {})

/** A mail to queue: its recipient, what it is for, its body, and whose activity log records it. */
export interface OutgoingMail extends MailBody {
  to: string
  kind: MailKind
  userId?: number | null
  teamId?: number | null
}

/** What the domain needs to send mail: queue it, and know whether mail can be sent at all. */
export interface MailQueue {
  /** The product name every mail signs with (GATEHOUSE_PRODUCT_NAME). */
  readonly productName: string
  /** False in production without GATEHOUSE_SMTP_URL: pages that would send mail say to ask the administrator. */
  readonly canSend: boolean
  /** Stores the mail for sending and returns: an SMTP outage never fails the caller. */
  queue(mail: OutgoingMail): Promise<void>
  /** Runs work beside the request, never in its way (a mail whose timing must not show); waited for at shutdown. */
  beside(work: Promise<void>): void
}

export interface OutboxDeps {
  db: Db
  keys: Pick<Keys, 'encryption'>
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'mailWithoutSmtp' | 'dataDir' | 'brand'>
  activity: ActivityLog
  log: Logger
  clock: () => number
}

export interface MailPolicy extends RetryPolicy {
  /** How long after it was queued Gatehouse stops trying to send a mail. */
  giveUpAfterMs: number
  /** How often each process looks for mail due (that of a restart, or of another process that stopped). */
  pollIntervalMs: number
  /** How long one process holds a mail it is sending before another may take it. */
  leaseMs: number
}

export const DEFAULT_MAIL_POLICY: MailPolicy = {
  firstRetryDelayMs: 30_000,
  maxRetryDelayMs: 60 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
  pollIntervalMs: 5_000,
  leaseMs: 2 * 60_000,
}

/** Mail claimed in one pass. */
const BATCH = 10

function transportFor(deps: OutboxDeps): Transport | undefined {
  const { config } = deps
  if (config.smtpUrl) return smtpTransport(config.smtpUrl, config.mailFrom)
  if (config.mailWithoutSmtp === 'files') return fileTransport(join(config.dataDir, 'outbox'), config.mailFrom, deps.log)
  return undefined
}

/**
 * The outbox: a queued mail is written to the database, sealed, then sent
 * beside the request that queued it, never in its way. A mail server that is
 * down is tried again with a growing wait for a day, by whichever process
 * claims the mail first, after a restart too; once sent, the mail and its
 * links are deleted.
 */
export class Outbox implements MailQueue {
  private readonly transport: Transport | undefined
  private readonly worker: QueueWorker<ClaimedMail>

  constructor(
    private readonly deps: OutboxDeps,
    private readonly policy: MailPolicy = DEFAULT_MAIL_POLICY,
  ) {
    this.transport = transportFor(deps)
    this.worker = new QueueWorker({
      log: deps.log,
      clock: deps.clock,
      failure: 'mail could not be sent',
      pollIntervalMs: policy.pollIntervalMs,
      batch: BATCH,
      leaseMs: policy.leaseMs,
      sideBySide: false,
      listDue: (now, limit) => listDue(deps.db.kysely, 'mail_outbox', now, limit),
      claim: (id, now, leaseUntil) => claimMail(deps.db.kysely, id, now, leaseUntil),
      attempt: (mail) => this.attempt(mail),
    })
  }

  get productName(): string {
    return this.deps.config.brand.productName
  }

  get canSend(): boolean {
    return this.transport !== undefined
  }

  /** Sends queued mail from now on (a serving process; a command only queues). */
  start(): void {
    if (!this.transport) {
      this.deps.log.warn(
        'GATEHOUSE_SMTP_URL is not set: Gatehouse sends no mail; password reset and e-mail verification need an administrator (gatehouse users reset-link)',
      )
      return
    }
    this.worker.start()
  }

  async queue(mail: OutgoingMail): Promise<void> {
    if (!this.transport) throw new Refusal('mail_unavailable', 503)
    const now = this.deps.clock()
    const body: MailBody = { subject: mail.subject, text: mail.text, html: mail.html, ...(mail.link ? { link: mail.link } : {}) }
    const id = randomUUID()
    await insertMail(
      this.deps.db.kysely,
      { id, recipient: mail.to, kind: mail.kind, bodyEncrypted: seal(this.deps.keys.encryption, JSON.stringify(body)) },
      now,
      now + this.policy.giveUpAfterMs,
    )
    this.deps.activity.record({ action: 'mail.queued', userId: mail.userId ?? null, teamId: mail.teamId ?? null, detail: `${mail.kind} to ${mail.to}` })
    this.worker.wake()
  }

  beside(work: Promise<void>): void {
    this.worker.beside(work)
  }

  /** Waits for the work under way. */
  settled(): Promise<void> {
    return this.worker.settled()
  }

  /** Stops sending and waits for the attempts in flight; what is left waits in the database. */
  async close(): Promise<void> {
    await this.worker.close()
    this.transport?.close()
  }

  private async attempt(mail: ClaimedMail): Promise<void> {
    const db = this.deps.db.kysely
    // Only a started outbox claims mail, and it starts only with a transport.
    if (!this.transport) return
    if (this.deps.clock() >= mail.giveUpAt) return this.giveUp(mail)
    try {
      const transport = this.transport
      await inSpan('send mail', { 'gatehouse.mail.kind': mail.kind }, () =>
        transport.send(mail.id, mail.recipient, JSON.parse(open(this.deps.keys.encryption, mail.bodyEncrypted)) as MailBody),
      )
    } catch (err) {
      const next = nextAttemptAt(this.policy, mail.attempts, this.deps.clock(), mail.giveUpAt)
      if (next === undefined) return this.giveUp(mail)
      this.deps.log.warn({ err, kind: mail.kind, attempts: mail.attempts }, 'mail not sent; will try again')
      return putBack(db, 'mail_outbox', mail.id, next)
    }
    await removeFromQueue(db, 'mail_outbox', mail.id)
  }

  private async giveUp(mail: ClaimedMail): Promise<void> {
    await removeFromQueue(this.deps.db.kysely, 'mail_outbox', mail.id)
    this.deps.activity.record({ action: 'mail.failed', detail: `${mail.kind} to ${mail.recipient}` })
    this.deps.log.error({ kind: mail.kind, attempts: mail.attempts }, 'mail not sent; gave up')
  }
}
