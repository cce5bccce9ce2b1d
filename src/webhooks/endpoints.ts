import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import type { Config } from '../config.js'
import type { Keys } from '../crypto/master-key.js'
import { seal } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import * as store from '../db/webhooks.js'
import type { WebhookEndpointRow } from '../db/webhooks.js'
import { Refusal } from '../messages.js'
import { isPrivateAddress, normalHost } from '../outbound/addresses.js'
import { isWebhookEvent, type WebhookEventType } from './events.js'
import { newWebhookSecret } from './signing.js'
import type { WebhookDelivery, WebhookEndpoint } from './types.js'
import type { Webhooks } from './delivery.js'

/*
 * Managing webhook endpoints, for a team's owners (the portal) and for
 * operators (the admin API): plain functions, knowing nothing of HTTP. A
 * `teamId` of undefined is an operator's view of every team; a team's view
 * finds nothing of another team.
 */

export interface WebhookAdminDeps {
  db: Db
  keys: Pick<Keys, 'encryption'>
  config: Pick<Config, 'webhookAllowedHosts'>
  webhooks: Pick<Webhooks, 'resend'>
  clock: () => number
}

const MAX_URL_LENGTH = 2000

/** Owners and operators never see the signing secret. */
function withoutSecret({ secretEncrypted: _sealed, ...endpoint }: WebhookEndpointRow): WebhookEndpoint {
  return endpoint
}

/**
 * The URL rule: https on a public address, or a host the operator allows.
 * A name is checked again, resolved, at every connection (outbound/request.ts),
 * so one that later resolves inside is refused then.
 */
export function checkWebhookUrl(value: unknown, allowedHosts: readonly string[]): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_URL_LENGTH) throw new Refusal('webhook_url_invalid')
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new Refusal('webhook_url_invalid')
  }
  // Credentials in a URL would be stored and shown in the clear.
  if (url.username !== '' || url.password !== '' || url.hash !== '') throw new Refusal('webhook_url_invalid')
  const host = normalHost(url.hostname)
  const name = isIP(host) === 6 ? `[${host}]` : host
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  const allowed = allowedHosts.includes(name) || allowedHosts.includes(`${name}:${port}`)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) throw new Refusal('webhook_url_refused')
  const internal = host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host))
  if (internal && !allowed) throw new Refusal('webhook_url_refused')
  return url.href
}

export function checkWebhookEvents(value: unknown): WebhookEventType[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0) throw new Refusal('webhook_events_required')
  const events: WebhookEventType[] = []
  for (const item of list) {
    if (typeof item !== 'string' || !isWebhookEvent(item)) throw new Refusal('webhook_event_unknown', 400, typeof item === 'string' ? item : undefined)
    if (!events.includes(item)) events.push(item)
  }
  return events
}

async function requireEndpoint(deps: Pick<WebhookAdminDeps, 'db'>, teamId: number | undefined, id: string): Promise<WebhookEndpointRow> {
  const row = await store.findWebhookEndpoint(deps.db.kysely, id)
  if (!row || (teamId !== undefined && row.teamId !== teamId)) throw new Refusal('webhook_not_found', 404)
  return row
}

/** A new endpoint and its signing secret, which is returned this once and kept only sealed. */
export async function createWebhookEndpoint(
  deps: Pick<WebhookAdminDeps, 'db' | 'keys' | 'config' | 'clock'>,
  teamId: number,
  input: { url: unknown; events: unknown },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = checkWebhookUrl(input.url, deps.config.webhookAllowedHosts)
  const events = checkWebhookEvents(input.events)
  const secret = newWebhookSecret()
  const id = `ep_${randomBytes(12).toString('base64url')}`
  const now = deps.clock()
  await store.insertWebhookEndpoint(deps.db.kysely, { id, teamId, url, events, secretEncrypted: seal(deps.keys.encryption, secret), createdAt: now })
  return { endpoint: await getWebhookEndpoint(deps, teamId, id), secret }
}

export async function listWebhookEndpoints(deps: Pick<WebhookAdminDeps, 'db'>, teamId?: number): Promise<WebhookEndpoint[]> {
  return (await store.listWebhookEndpoints(deps.db.kysely, teamId)).map(withoutSecret)
}

export async function getWebhookEndpoint(deps: Pick<WebhookAdminDeps, 'db'>, teamId: number | undefined, id: string): Promise<WebhookEndpoint> {
  return withoutSecret(await requireEndpoint(deps, teamId, id))
}

/** Changes the URL, the events, or whether it is enabled; what is not given stays. */
export async function updateWebhookEndpoint(
  deps: Pick<WebhookAdminDeps, 'db' | 'config' | 'clock'>,
  teamId: number | undefined,
  id: string,
  input: { url?: unknown; events?: unknown; enabled?: unknown },
): Promise<WebhookEndpoint> {
  await requireEndpoint(deps, teamId, id)
  const url = input.url === undefined ? undefined : checkWebhookUrl(input.url, deps.config.webhookAllowedHosts)
  const events = input.events === undefined ? undefined : checkWebhookEvents(input.events)
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw new Refusal('webhook_enabled_invalid')
  await store.updateWebhookEndpoint(deps.db.kysely, id, { url, events, enabled: input.enabled }, deps.clock())
  return getWebhookEndpoint(deps, teamId, id)
}

/** Deletes the endpoint with its delivery log; deliveries still waiting are not sent. */
export async function deleteWebhookEndpoint(deps: Pick<WebhookAdminDeps, 'db'>, teamId: number | undefined, id: string): Promise<void> {
  await requireEndpoint(deps, teamId, id)
  await deps.db.kysely.transaction().execute((trx) => store.deleteWebhookEndpoint(trx, id))
}

/** An endpoint's delivery log, newest first; `before` is the previous page's last `createdAt`. */
export async function listWebhookDeliveries(
  deps: Pick<WebhookAdminDeps, 'db'>,
  teamId: number | undefined,
  endpointId: string,
  page: { limit: number; before?: Date },
): Promise<WebhookDelivery[]> {
  await requireEndpoint(deps, teamId, endpointId)
  return store.listWebhookDeliveries(deps.db.kysely, endpointId, page.limit, page.before?.getTime())
}

/** Sends a logged delivery again, with the same webhook-id, so a receiver that saw it drops the repeat. */
export async function resendWebhookDelivery(
  deps: Pick<WebhookAdminDeps, 'db' | 'webhooks'>,
  teamId: number | undefined,
  endpointId: string,
  deliveryId: string,
): Promise<WebhookDelivery> {
  await requireEndpoint(deps, teamId, endpointId)
  const delivery = await store.findWebhookDelivery(deps.db.kysely, deliveryId)
  if (!delivery || delivery.endpointId !== endpointId) throw new Refusal('webhook_delivery_not_found', 404)
  if (!(await deps.webhooks.resend(deliveryId))) throw new Refusal('webhook_delivery_queued', 409)
  return { ...delivery, status: 'pending' }
}
