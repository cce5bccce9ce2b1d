import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { freePort } from './ports.js'

/** A mail the test server received, parsed. */
export interface ReceivedMail {
  to: string
  subject: string
  text: string
  html: string
  /** The first link to the issuer the plain-text part carries. */
  link: string | undefined
}

export interface MailServer {
  port: number
  /** GATEHOUSE_SMTP_URL for this server. */
  url: string
  received: ReceivedMail[]
  /** The next mail to `to` not yet taken by an earlier call, once it arrives; its link too. */
  nextMailTo(to: string, timeoutMs?: number): Promise<ReceivedMail>
  /** Mail received for `to` so far. */
  mailTo(to: string): ReceivedMail[]
  close(): Promise<void>
}

/**
 * A real SMTP server in the test process, on 127.0.0.1, without TLS or
 * authentication, that keeps every mail it is sent. `port` starts it on a
 * port named in advance (a server stopped and started again).
 */
export async function startMailServer(port?: number): Promise<MailServer> {
  const received: ReceivedMail[] = []
  const taken = new Set<ReceivedMail>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const text = parsed.text ?? ''
          const to = session.envelope.rcptTo.map((r) => r.address).join(',')
          received.push({
            to,
            subject: parsed.subject ?? '',
            text,
            html: typeof parsed.html === 'string' ? parsed.html : '',
            link: /https?:\/\/\S+/.exec(text)?.[0],
          })
          callback()
        })
        .catch((err: Error) => callback(err))
    },
  })
  const listenOn = port ?? (await freePort())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listenOn, '127.0.0.1', () => resolve())
  })
  const mailTo = (to: string) => received.filter((m) => m.to === to.toLowerCase() || m.to === to)
  return {
    port: listenOn,
    url: `smtp://127.0.0.1:${listenOn}`,
    received,
    mailTo,
    async nextMailTo(to, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const mail = mailTo(to).find((m) => !taken.has(m))
        if (mail) {
          taken.add(mail)
          return mail
        }
        if (Date.now() > deadline)
          throw new Error(`no mail to ${to} within ${timeoutMs} ms (received: ${received.map((m) => `${m.to}: ${m.subject}`).join('; ')})`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
