import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { countQueuedMail } from '../db/mail-outbox.js'
import { forEachDialect } from '../testing/dialects.js'
import { startMailServer, type MailServer } from '../testing/mail.js'
import { freePort } from '../testing/ports.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import type { MailPolicy } from './outbox.js'

const QUICK: MailPolicy = { firstRetryDelayMs: 100, maxRetryDelayMs: 400, giveUpAfterMs: 60_000, pollIntervalMs: 100, leaseMs: 5_000 }

const mail = (to: string) => ({
  to,
  kind: 'test',
  subject: 'Hello',
  text: 'Follow http://gatehouse.test/secret-link-token to go on.',
  html: '<p>Follow <a href="http://gatehouse.test/secret-link-token">this</a>.</p>',
  link: 'http://gatehouse.test/secret-link-token',
})

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

await forEachDialect('the mail outbox', (dialect) => {
  let server: TestServer | undefined
  let smtp: MailServer | undefined
  after(async () => {
    await smtp?.close()
    await server?.stop()
  })

  it('keeps mail while the mail server is down and sends it once when it is back', async () => {
    const port = await freePort()
    server = await startTestServer(dialect, { smtpUrl: `smtp://127.0.0.1:${port}` }, undefined, { mailPolicy: QUICK })
    await server.ctx.mail.queue(mail('ada@example.com'))
    // A few attempts fail against the closed port; none is lost.
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(await countQueuedMail(server.ctx.db.kysely), 1)

    smtp = await startMailServer(port)
    const received = await smtp.nextMailTo('ada@example.com')
    assert.equal(received.subject, 'Hello')
    assert.equal(received.link, 'http://gatehouse.test/secret-link-token')
    assert.match(received.html, /secret-link-token/)
    await waitFor(async () => (await countQueuedMail(server!.ctx.db.kysely)) === 0)
    await new Promise((resolve) => setTimeout(resolve, 500))
    assert.equal(smtp.mailTo('ada@example.com').length, 1)

    await server.ctx.activity.flush()
    const items = await server.ctx.db.kysely.selectFrom('activities').select(['action', 'detail']).execute()
    assert.deepEqual(
      items.filter((a) => a.action === 'mail.queued'),
      [{ action: 'mail.queued', detail: 'test to ada@example.com' }],
    )
    assert.ok(items.every((a) => !(a.detail ?? '').includes('secret-link-token')))
  })

  it('sends after a restart what was queued before it, sealed in the database until then', async () => {
    assert.ok(server && smtp)
    await smtp.close()
    smtp = undefined
    const port = await freePort()
    server = await server.restart({ smtpUrl: `smtp://127.0.0.1:${port}` })
    await server.ctx.mail.queue(mail('grace@example.com'))
    const stored = await server.ctx.db.kysely.selectFrom('mail_outbox').select('body_encrypted').executeTakeFirstOrThrow()
    assert.ok(!stored.body_encrypted.includes('secret-link-token'))

    server = await server.restart({})
    smtp = await startMailServer(port)
    await smtp.nextMailTo('grace@example.com')
    await waitFor(async () => (await countQueuedMail(server!.ctx.db.kysely)) === 0)
    assert.equal(smtp.mailTo('grace@example.com').length, 1)
  })
})

it('writes mail as .eml files and logs the link when there is no mail server outside production', async () => {
  const server = await startTestServer('sqlite', { smtpUrl: undefined, mailWithoutSmtp: 'files' }, undefined, { mailPolicy: QUICK })
  try {
    await server.ctx.mail.queue(mail('ada@example.com'))
    const dir = join(server.ctx.config.dataDir, 'outbox')
    await waitFor(() => {
      try {
        return readdirSync(dir).length === 1
      } catch {
        return false
      }
    })
    const eml = readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')
    assert.match(eml, /^To: ada@example.com$/m)
    assert.match(eml, /Content-Type: text\/html/)
  } finally {
    await server.stop()
  }
})

it('in production without a mail server, starts and refuses to queue with a message for the person', async () => {
  const server = await startTestServer('sqlite', { smtpUrl: undefined, mailWithoutSmtp: 'off' })
  try {
    assert.equal(server.ctx.mail.canSend, false)
    await assert.rejects(server.ctx.mail.queue(mail('ada@example.com')), { code: 'mail_unavailable' })
  } finally {
    await server.stop()
  }
})
