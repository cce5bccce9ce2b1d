import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { ActivityLog } from '../activity/recorder.js'
import type { Config } from '../config.js'
import type { Keys } from '../crypto/master-key.js'
import { open, seal } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import { claimMail, deleteMail, insertMail, listDueMail, rescheduleMail, type ClaimedMail } from '../db/mail-outbox.js'
import type { Logger } from '../logger.js'
import { Refusal } from '../messages.js'
import { fileTransport, smtpTransport, type MailBody, type Transport } from './transport.js'

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
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'mailWithoutSmtp' | 'dataDir'>
  activity: ActivityLog
  log: Logger
  clock: () => number
}

export interface MailPolicy {
  /** The wait after the first failed attempt; it doubles after each further one, up to `maxRetryDelayMs`. */
  firstRetryDelayMs: number
  maxRetryDelayMs: number
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
  private readonly running = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private passing = false
  private passAgain = false
  private closed = false

  constructor(
    private readonly deps: OutboxDeps,
    private readonly policy: MailPolicy = DEFAULT_MAIL_POLICY,
  ) {
    this.transport = transportFor(deps)
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
    this.timer ??= setInterval(() => this.track(this.pass()), this.policy.pollIntervalMs)
    this.timer.unref()
    this.track(this.pass())
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
    if (this.timer) this.track(this.pass())
  }

  beside(work: Promise<void>): void {
    this.track(work)
  }

  /** Waits for the work under way. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running])
  }

  /** Stops sending and waits for the attempts in flight; what is left waits in the database. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.settled()
    this.transport?.close()
  }

  private track(job: Promise<void>): void {
    const caught = job.catch((err: unknown) => this.deps.log.warn({ err }, 'mail could not be sent'))
    this.running.add(caught)
    void caught.finally(() => this.running.delete(caught))
  }

  /** One pass over the due mail; a pass asked for while one runs follows it. */
  private async pass(): Promise<void> {
    if (this.closed || !this.transport) return
    if (this.passing) {
      this.passAgain = true
      return
    }
    this.passing = true
    try {
      do {
        this.passAgain = false
        const now = this.deps.clock()
        const due = await listDueMail(this.deps.db.kysely, now, BATCH)
        const claimed = await Promise.all(due.map((id) => claimMail(this.deps.db.kysely, id, now, now + this.policy.leaseMs)))
        for (const mail of claimed) if (mail) await this.attempt(this.transport, mail)
        if (due.length === BATCH) this.passAgain = true
      } while (this.passAgain && !this.closed)
    } finally {
      this.passing = false
    }
  }

  private async attempt(transport: Transport, mail: ClaimedMail): Promise<void> {
    const db = this.deps.db.kysely
    if (this.deps.clock() >= mail.giveUpAt) return this.giveUp(mail)
    try {
      await transport.send(mail.id, mail.recipient, JSON.parse(open(this.deps.keys.encryption, mail.bodyEncrypted)) as MailBody)
    } catch (err) {
      const wait = Math.min(this.policy.firstRetryDelayMs * 2 ** (mail.attempts - 1), this.policy.maxRetryDelayMs)
      const next = this.deps.clock() + wait
      if (next >= mail.giveUpAt) return this.giveUp(mail)
      this.deps.log.warn({ err, kind: mail.kind, attempts: mail.attempts }, 'mail not sent; will try again')
      return rescheduleMail(db, mail.id, next)
    }
    await deleteMail(db, mail.id)
  }

  private async giveUp(mail: ClaimedMail): Promise<void> {
    await deleteMail(this.deps.db.kysely, mail.id)
    this.deps.activity.record({ action: 'mail.failed', detail: `${mail.kind} to ${mail.recipient}` })
    this.deps.log.error({ kind: mail.kind, attempts: mail.attempts }, 'mail not sent; gave up')
  }
}
