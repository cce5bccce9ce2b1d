import type { Selectable } from 'kysely'
import { isWebhookEvent } from '../webhooks/events.js'
import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint } from '../webhooks/types.js'
import type { Executor } from './executor.js'
import { claimDue } from './leased-queue.js'
import type { WebhookDeliveryTable, WebhookEndpointTable } from './schema.js'

/** An endpoint with its sealed signing secret, which delivery reads back to sign. */
export interface WebhookEndpointRow extends WebhookEndpoint {
  secretEncrypted: string
}

function toEndpoint(row: Selectable<WebhookEndpointTable>): WebhookEndpointRow {
  return {
    id: row.id,
    teamId: Number(row.team_id),
    url: row.url,
    events: (JSON.parse(row.events) as string[]).filter(isWebhookEvent),
    secretEncrypted: row.secret_encrypted,
    enabled: row.disabled_at === null,
    disabledAt: row.disabled_at === null ? null : new Date(Number(row.disabled_at)),
    disabledReason: row.disabled_reason,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  }
}

function toDelivery(row: Selectable<WebhookDeliveryTable>): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventType: row.event_type,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    responseStatus: row.response_status,
    latencyMs: row.latency_ms,
    error: row.error,
    createdAt: new Date(Number(row.created_at)),
    lastAttemptAt: row.last_attempt_at === null ? null : new Date(Number(row.last_attempt_at)),
  }
}

export async function insertWebhookEndpoint(
  db: Executor,
  endpoint: { id: string; teamId: number; url: string; events: string[]; secretEncrypted: string; createdAt: number },
): Promise<void> {
  await db
    .insertInto('webhook_endpoints')
    .values({
      id: endpoint.id,
      team_id: endpoint.teamId,
      url: endpoint.url,
      events: JSON.stringify(endpoint.events),
      secret_encrypted: endpoint.secretEncrypted,
      disabled_at: null,
      disabled_reason: null,
      created_at: endpoint.createdAt,
      updated_at: endpoint.createdAt,
    })
    .execute()
}

/** A team's endpoints, or every team's, the oldest first. */
export async function listWebhookEndpoints(db: Executor, teamId?: number): Promise<WebhookEndpointRow[]> {
  let query = db.selectFrom('webhook_endpoints').selectAll()
  if (teamId !== undefined) query = query.where('team_id', '=', teamId)
  const rows = await query.orderBy('created_at').orderBy('id').execute()
  return rows.map(toEndpoint)
}

export async function findWebhookEndpoint(db: Executor, id: string): Promise<WebhookEndpointRow | undefined> {
  const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toEndpoint(row)
}

/** The enabled endpoints of these teams. */
export async function listEnabledEndpointsOfTeams(db: Executor, teamIds: number[]): Promise<WebhookEndpointRow[]> {
  if (teamIds.length === 0) return []
  const rows = await db.selectFrom('webhook_endpoints').selectAll().where('team_id', 'in', teamIds).where('disabled_at', 'is', null).execute()
  return rows.map(toEndpoint)
}

export async function updateWebhookEndpoint(
  db: Executor,
  id: string,
  change: { url?: string; events?: string[]; enabled?: boolean },
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_endpoints')
    .set({
      ...(change.url !== undefined ? { url: change.url } : {}),
      ...(change.events !== undefined ? { events: JSON.stringify(change.events) } : {}),
      ...(change.enabled === true ? { disabled_at: null, disabled_reason: null } : {}),
      ...(change.enabled === false ? { disabled_at: now, disabled_reason: 'disabled by hand' } : {}),
      updated_at: now,
    })
    .where('id', '=', id)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

/** Disables an endpoint unless it already is; true when this call did. */
export async function disableWebhookEndpoint(db: Executor, id: string, reason: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('webhook_endpoints')
    .set({ disabled_at: now, disabled_reason: reason, updated_at: now })
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

export async function deleteWebhookEndpoint(db: Executor, id: string): Promise<boolean> {
  // The deliveries and their queue rows go with it (ON DELETE CASCADE), in SQLite only with foreign keys on, so explicitly.
  await db
    .deleteFrom('webhook_outbox')
    .where('id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id))
    .execute()
  await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute()
  const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst()
  return result.numDeletedRows > 0n
}

/** Logs the deliveries as pending and queues them, due now. */
export async function insertWebhookDeliveries(
  db: Executor,
  deliveries: { id: string; endpointId: string; eventType: string; payload: string }[],
  now: number,
  giveUpAt: number,
): Promise<void> {
  if (deliveries.length === 0) return
  await db
    .insertInto('webhook_deliveries')
    .values(
      deliveries.map((d) => ({
        id: d.id,
        endpoint_id: d.endpointId,
        event_type: d.eventType,
        payload: d.payload,
        status: 'pending' as const,
        response_status: null,
        latency_ms: null,
        error: null,
        created_at: now,
        last_attempt_at: null,
      })),
    )
    .execute()
  await db
    .insertInto('webhook_outbox')
    .values(deliveries.map((d) => ({ id: d.id, next_attempt_at: now, give_up_at: giveUpAt, lease_until: null, created_at: now })))
    .execute()
}

/** Queues a logged delivery once more, with the same id; false when it is already queued. */
export async function requeueWebhookDelivery(db: Executor, id: string, now: number, giveUpAt: number): Promise<boolean> {
  const queued = await db.selectFrom('webhook_outbox').select('id').where('id', '=', id).executeTakeFirst()
  if (queued) return false
  await db.updateTable('webhook_deliveries').set({ status: 'pending' }).where('id', '=', id).execute()
  await db.insertInto('webhook_outbox').values({ id, next_attempt_at: now, give_up_at: giveUpAt, lease_until: null, created_at: now }).execute()
  return true
}

export interface ClaimedWebhookDelivery {
  delivery: WebhookDelivery
  endpoint: WebhookEndpointRow
  /** Attempts of this round in the queue, this one included. */
  attempts: number
  giveUpAt: number
}

export async function claimWebhookDelivery(db: Executor, id: string, now: number, leaseUntil: number): Promise<ClaimedWebhookDelivery | undefined> {
  const row = await claimDue(db, 'webhook_outbox', id, now, leaseUntil)
  if (!row) return undefined
  const delivery = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst()
  const endpoint = delivery && (await findWebhookEndpoint(db, delivery.endpoint_id))
  if (!delivery || !endpoint) {
    await db.deleteFrom('webhook_outbox').where('id', '=', id).execute()
    return undefined
  }
  return { delivery: toDelivery(delivery), endpoint, attempts: row.attempts, giveUpAt: Number(row.give_up_at) }
}

/** Writes one attempt's outcome to the log. */
export async function recordWebhookAttempt(
  db: Executor,
  id: string,
  outcome: { status: WebhookDeliveryStatus; responseStatus: number | null; latencyMs: number; error: string | null },
  now: number,
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      status: outcome.status,
      attempts: eb('attempts', '+', 1),
      response_status: outcome.responseStatus,
      latency_ms: outcome.latencyMs,
      error: outcome.error,
      last_attempt_at: now,
    }))
    .where('id', '=', id)
    .execute()
}

/** An endpoint's deliveries, newest first. */
export async function listWebhookDeliveries(db: Executor, endpointId: string, limit: number, beforeCreatedAt?: number): Promise<WebhookDelivery[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId)
  if (beforeCreatedAt !== undefined) query = query.where('created_at', '<', beforeCreatedAt)
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()
  return rows.map(toDelivery)
}

export async function findWebhookDelivery(db: Executor, id: string): Promise<WebhookDelivery | undefined> {
  const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toDelivery(row)
}
