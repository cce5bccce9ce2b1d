import type { ActivityAction, ActivityEvent } from '../activity/types.js'

/** Every event a webhook endpoint may ask for; names are stable, as receivers match on them. */
export const WEBHOOK_EVENTS = [
  'member.invited',
  'member.joined',
  'member.role_changed',
  'member.removed',
  'app.authorised',
  'app.revoked',
  'client.created',
  'client.updated',
  'client.deleted',
  'personal_access_token.created',
  'personal_access_token.deleted',
  'token.replay_detected',
  'session.ended',
  'user.disabled',
] as const

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number]

export function isWebhookEvent(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value)
}

/** The activity entries that are also webhook events: the activity log is where the domain says what it did. */
const FROM_ACTIVITY: Partial<Record<ActivityAction, WebhookEventType>> = {
  'member.invited': 'member.invited',
  'invitation.accepted': 'member.joined',
  'member.role_changed': 'member.role_changed',
  'member.removed': 'member.removed',
  'member.left': 'member.removed',
  'app.authorised': 'app.authorised',
  'app.revoked': 'app.revoked',
  'client.created': 'client.created',
  'client.updated': 'client.updated',
  'client.deleted': 'client.deleted',
  'personal_access_token.created': 'personal_access_token.created',
  'personal_access_token.deleted': 'personal_access_token.deleted',
  'authorization_code.replayed': 'token.replay_detected',
  'refresh_token.replayed': 'token.replay_detected',
  'device_code.replayed': 'token.replay_detected',
}

/** One event for one team's endpoints: the Standard Webhooks payload's `type`, and its `data`. */
export interface WebhookEvent {
  type: WebhookEventType
  teamId: number
  data: Record<string, string | number | null>
}

/**
 * The webhook event an activity entry is, if any. The data names ids and
 * the entry's detail (a name, an address and role, what a replay revoked):
 * the activity log never holds a token or secret, so neither does this.
 */
export function eventOfActivity(entry: ActivityEvent): WebhookEvent | undefined {
  const type = FROM_ACTIVITY[entry.action]
  if (type === undefined || entry.teamId === null || entry.teamId === undefined) return undefined
  const data: WebhookEvent['data'] = { team_id: entry.teamId, action: entry.action }
  if (entry.userId != null) data.user_id = entry.userId
  if (entry.clientId != null) data.client_id = entry.clientId
  if (entry.personalAccessTokenId != null) data.personal_access_token_id = entry.personalAccessTokenId
  if (entry.detail != null) data.detail = entry.detail
  return { type, teamId: entry.teamId, data }
}

/** The body every endpoint receives: Standard Webhooks' `type`, `timestamp` and `data`. */
export function payloadOf(event: WebhookEvent, at: number): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(at).toISOString(), data: event.data })
}
