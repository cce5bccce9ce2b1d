import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Transporter } from 'nodemailer'
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

type Nodemailer = typeof import('nodemailer')

/**
 * A transporter made when the first mail goes out: nodemailer is loaded
 * then, not at start-up, as a process may never send one.
 */
function onFirstMail(make: (nodemailer: Nodemailer) => Transporter): { transporter(): Promise<Transporter>; close(): void } {
  let made: Promise<Transporter> | undefined
  return {
    transporter: () => (made ??= import('nodemailer').then(make)),
    // A transporter that was never made (nodemailer failed to load) has nothing to close.
    close: () =>
      void made?.then(
        (transporter) => transporter.close(),
        () => undefined,
      ),
  }
}

/** smtp:// upgrades with STARTTLS when the server offers it (nodemailer's default); smtps:// is TLS from the start. */
export function smtpTransport(url: string, from: string): Transport {
  const lazy = onFirstMail(({ createTransport }) => createTransport({ url, ...SMTP_TIMEOUTS }, { from }))
  return {
    async send(_id, to, body) {
      await (await lazy.transporter()).sendMail({ to, subject: body.subject, text: body.text, html: body.html })
    },
    close: lazy.close,
  }
}

/**
 * Without a mail server, outside production: each mail becomes an .eml file
 * under `<data dir>/outbox/` and its link goes to the log, so a sandbox
 * works with no SMTP at all.
 */
export function fileTransport(dir: string, from: string, log: Logger): Transport {
  const lazy = onFirstMail(({ createTransport }) => createTransport({ streamTransport: true, buffer: true, newline: 'unix' }, { from }))
  return {
    async send(id, to, body) {
      const info = (await (await lazy.transporter()).sendMail({ to, subject: body.subject, text: body.text, html: body.html })) as { message: Buffer }
      await mkdir(dir, { recursive: true })
      const file = join(dir, `${id}.eml`)
      await writeFile(file, info.message)
      log.info({ to, subject: body.subject, file, ...(body.link ? { link: body.link } : {}) }, 'mail written to a file (no GATEHOUSE_SMTP_URL)')
    },
    close: lazy.close,
  }
}
