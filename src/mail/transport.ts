import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTransport, type Transporter } from 'nodemailer'
import type { Logger } from '../logger.js'

/** A mail as it leaves Gatehouse: a plain-text and an HTML part. */
export interface MailBody {
  subject: string
  text: string
  html: string
  /** The link the mail carries, if any: written to the log only by the file drop, which production never uses. */
  link?: string
}

export interface Transport {
  send(id: string, to: string, body: MailBody): Promise<void>
  close(): void
}

/** How long an SMTP server may take to answer, so a stuck server cannot hold a mail past its lease. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }

/** smtp:// upgrades with STARTTLS when the server offers it (nodemailer's default); smtps:// is TLS from the start. */
export function smtpTransport(url: string, from: string): Transport {
  const transporter: Transporter = createTransport({ url, ...SMTP_TIMEOUTS }, { from })
  return {
    async send(_id, to, body) {
      await transporter.sendMail({ to, subject: body.subject, text: body.text, html: body.html })
    },
    close() {
      transporter.close()
    },
  }
}

/**
 * Without a mail server, outside production: each mail becomes an .eml file
 * under `<data dir>/outbox/` and its link goes to the log, so a sandbox
 * works with no SMTP at all.
 */
export function fileTransport(dir: string, from: string, log: Logger): Transport {
  const transporter: Transporter = createTransport({ streamTransport: true, buffer: true, newline: 'unix' }, { from })
  return {
    async send(id, to, body) {
      const info = (await transporter.sendMail({ to, subject: body.subject, text: body.text, html: body.html })) as { message: Buffer }
      await mkdir(dir, { recursive: true })
      const file = join(dir, `${id}.eml`)
      await writeFile(file, info.message)
      log.info({ to, subject: body.subject, file, ...(body.link ? { link: body.link } : {}) }, 'mail written to a file (no GATEHOUSE_SMTP_URL)')
    },
    close() {
      transporter.close()
    },
  }
}
