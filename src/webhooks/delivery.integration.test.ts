import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, it } from 'node:test'
import { changeRole } from '../accounts/members.js'
import { listActivities } from '../db/activities.js'
import { findWebhookDelivery, listWebhookDeliveries } from '../db/webhooks.js'
import { Refusal } from '../messages.js'
import { forEachDialect } from '../testing/dialects.js'
import { seedUser, type SeededUser } from '../testing/fixtures.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { WebhookReceiver } from '../testing/webhook-receiver.js'
import { Webhooks, type WebhookPolicy } from './delivery.js'
import { createWebhookEndpoint, getWebhookEndpoint, resendWebhookDelivery } from './endpoints.js'

/** Short waits, so that retries happen within a test. */
const FAST: WebhookPolicy = { timeoutMs: 1_000, firstRetryDelayMs: 100, maxRetryDelayMs: 300, giveUpAfterMs: 60_000, pollIntervalMs: 50 }

/** Polls until `check` holds, or fails after a few seconds. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await sleep(50)
  }
  assert.fail(`timed out waiting until ${what}`)
}

await forEachDialect('webhook deliveries (Standard Webhooks), kept in the database', (dialect) => {
  let server: TestServer
  let receiver: WebhookReceiver
  let teams = 0

  /** A team with an owner, a second member, and an endpoint at the receiver that asks for role changes. */
  async function teamWithEndpoint(): Promise<{ owner: SeededUser; member: SeededUser; endpointId: string }> {
    const name = `team${++teams}`
    const owner = await seedUser(server.ctx.db, `owner${teams}@example.com`, { team: name })
    const member = await seedUser(server.ctx.db, `member${teams}@example.com`, { team: name, role: 'member' })
    const { endpoint, secret } = await createWebhookEndpoint(server.ctx, owner.team!.id, {
      url: receiver.url,
      events: ['member.role_changed', 'member.removed'],
    })
    receiver.secret = secret
    return { owner, member, endpointId: endpoint.id }
  }

  async function promote(team: { owner: SeededUser; member: SeededUser }): Promise<void> {
    await changeRole(server.ctx.db, server.ctx.activity, team.owner.team!.id, team.member.user.id, 'owner', { user: team.owner.user, address: null })
  }

  before(async () => {
    receiver = await new WebhookReceiver().start()
    server = await startTestServer(dialect, { webhookAllowedHosts: ['127.0.0.1'] }, undefined, { webhookPolicy: FAST })
  })
  after(async () => {
    await server.stop()
    await receiver.close()
  })

  it('signs each delivery so that the standardwebhooks package verifies it, and names ids and the change, never a secret', async () => {
    const team = await teamWithEndpoint()
    const before = receiver.received.length
    await promote(team)
    await receiver.arrived(before + 1)
    const delivery = receiver.received.at(-1)!
    assert.match(delivery.id, /^msg_/)
    assert.equal(delivery.payload.type, 'member.role_changed')
    assert.deepEqual(delivery.payload.data, {
      team_id: team.owner.team!.id,
      action: 'member.role_changed',
      user_id: team.owner.user.id,
      detail: `${team.member.user.email} to owner`,
    })
    assert.ok(!JSON.stringify(delivery.payload).includes(receiver.secret.slice(6)))
    assert.equal(receiver.rejected, 0)
    await until(async () => (await findWebhookDelivery(server.ctx.db.kysely, delivery.id))?.status === 'delivered', 'it is logged delivered')
    const [logged] = await listWebhookDeliveries(server.ctx.db.kysely, team.endpointId, 10)
    assert.equal(logged?.id, delivery.id)
    assert.equal(logged?.status, 'delivered')
    assert.equal(logged?.responseStatus, 204)
    assert.equal(logged?.attempts, 1)
  })

  it('sends nothing to an endpoint for events it did not ask for, nor to another team', async () => {
    const team = await teamWithEndpoint()
    const other = await teamWithEndpoint()
    await server.ctx.activity.flush()
    server.ctx.activity.record({ action: 'client.created', teamId: team.owner.team!.id, clientId: 'c1', detail: 'App' })
    await promote(other)
    await server.ctx.activity.flush()
    await until(async () => (await listWebhookDeliveries(server.ctx.db.kysely, other.endpointId, 10)).length === 1, 'the other team has its delivery')
    assert.equal((await listWebhookDeliveries(server.ctx.db.kysely, team.endpointId, 10)).length, 0)
  })

  it('gives a receiver that is down the same delivery later, with the same webhook-id, until it succeeds', async () => {
    const team = await teamWithEndpoint()
    await receiver.close()
    await promote(team)
    await server.ctx.activity.flush()
    const id = async () => (await listWebhookDeliveries(server.ctx.db.kysely, team.endpointId, 1))[0]
    await until(async () => ((await id())?.attempts ?? 0) >= 2, 'two attempts failed')
    const failing = (await id())!
    assert.equal(failing.status, 'pending')
    assert.equal(failing.responseStatus, null)
    const before = receiver.received.length
    receiver.statuses = [503]
    await receiver.start()
    await receiver.arrived(before + 2)
    assert.deepEqual(
      receiver.received.slice(before).map((d) => d.id),
      [failing.id, failing.id],
      'a 503 is tried again too, with the same id',
    )
    await until(async () => (await findWebhookDelivery(server.ctx.db.kysely, failing.id))?.status === 'delivered', 'it is logged delivered')
  })

  it('loses no delivery across a server restart', async () => {
    const team = await teamWithEndpoint()
    await receiver.close()
    await promote(team)
    await server.ctx.activity.flush()
    await until(async () => ((await listWebhookDeliveries(server.ctx.db.kysely, team.endpointId, 1))[0]?.attempts ?? 0) >= 1, 'one attempt failed')
    const [waiting] = await listWebhookDeliveries(server.ctx.db.kysely, team.endpointId, 1)
    server = await server.restart({})
    const before = receiver.received.length
    await receiver.start()
    await receiver.arrived(before + 1)
    assert.equal(receiver.received.at(-1)!.id, waiting!.id)
  })

  it('sends a delivery again on request, with the same webhook-id', async () => {
    const team = await teamWithEndpoint()
    const before = receiver.received.length
    await promote(team)
    await receiver.arrived(before + 1)
    const first = receiver.received.at(-1)!
    await until(async () => (await findWebhookDelivery(server.ctx.db.kysely, first.id))?.status === 'delivered', 'it is logged delivered')
    await resendWebhookDelivery(server.ctx, team.owner.team!.id, team.endpointId, first.id)
    await receiver.arrived(before + 2)
    assert.equal(receiver.received.at(-1)!.id, first.id)
    await assert.rejects(
      resendWebhookDelivery(server.ctx, team.owner.team!.id + 1000, team.endpointId, first.id),
      (err: Refusal) => err.code === 'webhook_not_found',
    )
  })

  it('refuses loopback and private URLs unless the operator allows the host, and checks the address again when connecting', async () => {
    const owner = await seedUser(server.ctx.db, 'ssrf@example.com', { team: 'ssrf' })
    const strict = { ...server.ctx, config: { webhookAllowedHosts: [] } }
    for (const url of [
      'http://127.0.0.1:9/hooks',
      'https://127.0.0.1/hooks',
      'https://10.1.2.3/hooks',
      'https://[::1]/hooks',
      'https://localhost/hooks',
      'http://example.com/hooks',
    ])
      await assert.rejects(
        createWebhookEndpoint(strict, owner.team!.id, { url, events: ['member.removed'] }),
        (err: Refusal) => err.code === 'webhook_url_refused',
        url,
      )
    await assert.rejects(
      createWebhookEndpoint(strict, owner.team!.id, { url: 'not a url', events: ['member.removed'] }),
      (err: Refusal) => err.code === 'webhook_url_invalid',
    )
    await assert.rejects(
      createWebhookEndpoint(strict, owner.team!.id, { url: 'https://example.com', events: ['nope'] }),
      (err: Refusal) => err.code === 'webhook_event_unknown',
    )
    await assert.rejects(
      createWebhookEndpoint(strict, owner.team!.id, { url: 'https://example.com', events: [] }),
      (err: Refusal) => err.code === 'webhook_events_required',
    )

    // Registered while allowed; the allow-list is then emptied: the connection itself is refused, and not tried again.
    const team = await teamWithEndpoint()
    const before = receiver.received.length
    server.ctx.config.webhookAllowedHosts = []
    try {
      await promote(team)
      await server.ctx.activity.flush()
      await until(async () => (await listWebhookDeliveries(server.ctx.db.kysely, team.endpointId, 1))[0]?.status === 'failed', 'the delivery failed')
      const [failed] = await listWebhookDeliveries(server.ctx.db.kysely, team.endpointId, 1)
      assert.equal(failed!.attempts, 1)
      assert.match(failed!.error ?? '', /https|private|loopback/)
    } finally {
      server.ctx.config.webhookAllowedHosts = ['127.0.0.1']
    }
    await sleep(FAST.maxRetryDelayMs * 2)
    assert.equal(receiver.received.length, before)
  })

  it('disables an endpoint whose delivery keeps failing for as long as it is tried, and mails its owners', async () => {
    const team = await teamWithEndpoint()
    const shortLived = new Webhooks(server.ctx, { ...FAST, giveUpAfterMs: 800 })
    await receiver.close()
    try {
      await shortLived.emit([{ type: 'member.removed', teamId: team.owner.team!.id, data: { team_id: team.owner.team!.id } }], Date.now())
      await until(async () => !(await getWebhookEndpoint(server.ctx, team.owner.team!.id, team.endpointId)).enabled, 'the endpoint is disabled')
    } finally {
      await shortLived.close()
      await receiver.start()
    }
    // This instance only queued, with its short time to give up; the server's worker made the attempts, and mails the owners after it disables.
    await server.ctx.webhooks.settled()
    const endpoint = await getWebhookEndpoint(server.ctx, team.owner.team!.id, team.endpointId)
    assert.match(endpoint.disabledReason ?? '', /kept failing/)
    const [delivery] = await listWebhookDeliveries(server.ctx.db.kysely, team.endpointId, 1)
    assert.equal(delivery!.status, 'failed')
    await server.ctx.activity.flush()
    const activity = await listActivities(server.ctx.db.kysely, { teamId: team.owner.team!.id, limit: 20 })
    assert.ok(
      activity.some((a) => a.action === 'mail.queued' && a.detail === `webhook_disabled to ${team.owner.user.email}`),
      'the owner is mailed',
    )
    assert.ok(!activity.some((a) => a.action === 'mail.queued' && a.detail?.includes(team.member.user.email)), 'a member is not')

    const before = receiver.received.length
    await promote(team)
    await server.ctx.activity.flush()
    await sleep(300)
    assert.equal(receiver.received.length, before, 'a disabled endpoint is sent nothing')
  })

  it('tells a team when a session of a member ends', async () => {
    const owner = await seedUser(server.ctx.db, 'sessions@example.com', { team: 'sessions' })
    const { endpoint, secret } = await createWebhookEndpoint(server.ctx, owner.team!.id, { url: receiver.url, events: ['session.ended', 'user.disabled'] })
    receiver.secret = secret
    const before = receiver.received.length
    server.ctx.backchannel.sessionsEnded([{ sid: 'sid-1', userId: owner.user.id }])
    await server.ctx.webhooks.userDisabled(owner.user.id)
    await receiver.arrived(before + 2)
    const types = receiver.received
      .slice(before)
      .map((d) => d.payload.type)
      .sort()
    assert.deepEqual(types, ['session.ended', 'user.disabled'])
    assert.equal((await listWebhookDeliveries(server.ctx.db.kysely, endpoint.id, 10)).length, 2)
  })
})
