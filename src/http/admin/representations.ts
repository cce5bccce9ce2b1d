import type { TrustedIssuer } from '../../db/trusted-issuers.js'
import type { Invitation } from '../../accounts/invitations.js'
import type { Role, Team, User } from '../../accounts/types.js'
import type { Activity } from '../../activity/types.js'
import type { Client } from '../../clients/types.js'
import type { SessionListRow } from '../../db/sessions.js'
import type { Resource } from '../../resources/types.js'
import type { PersonalAccessToken } from '../../tokens/personal-access-tokens.js'
import type { TeamApp } from '../../tokens/types.js'
import type { WebhookDelivery, WebhookEndpoint } from '../../webhooks/types.js'
import { nullableTimestamp, object, timestamp } from './schemas.js'

/** ISO 8601 in UTC to the millisecond. */
function iso(date: Date | number): string {
  return new Date(date).toISOString()
}

function isoOrNull(date: Date | number | null): string | null {
  return date === null ? null : iso(date)
}

export const userSchema = object({
  object: { type: 'string', enum: ['user'] },
  id: { type: 'integer' },
  email: { type: 'string' },
  name: { type: 'string' },
  is_verified: { type: 'boolean' },
  is_disabled: { type: 'boolean' },
  created_at: timestamp,
  updated_at: timestamp,
})

export function userJson(user: User) {
  return {
    object: 'user' as const,
    id: user.id,
    email: user.email,
    name: user.name,
    is_verified: user.isVerified,
    is_disabled: user.isDisabled,
    created_at: iso(user.createdAt),
    updated_at: iso(user.updatedAt),
  }
}

export const teamSchema = object({
  object: { type: 'string', enum: ['team'] },
  id: { type: 'integer' },
  name: { type: 'string' },
  created_at: timestamp,
  updated_at: timestamp,
})

export function teamJson(team: Team) {
  return { object: 'team' as const, id: team.id, name: team.name, created_at: iso(team.createdAt), updated_at: iso(team.updatedAt) }
}

export const memberSchema = object({
  object: { type: 'string', enum: ['member'] },
  team_id: { type: 'integer' },
  role: { type: 'string', enum: ['owner', 'member'] },
  user: userSchema,
})

export function memberJson(teamId: number, user: User, role: Role) {
  return { object: 'member' as const, team_id: teamId, role, user: userJson(user) }
}

export const invitationSchema = object({
  object: { type: 'string', enum: ['invitation'] },
  id: { type: 'string' },
  team_id: { type: 'integer' },
  email: { type: 'string' },
  role: { type: 'string', enum: ['owner', 'member'] },
  created_at: timestamp,
  expires_at: timestamp,
  is_expired: { type: 'boolean' },
  is_cancelled: { type: 'boolean' },
})

export function invitationJson(invitation: Invitation) {
  return {
    object: 'invitation' as const,
    id: invitation.id,
    team_id: invitation.teamId,
    email: invitation.email,
    role: invitation.role,
    created_at: iso(invitation.createdAt),
    expires_at: iso(invitation.expiresAt),
    is_expired: invitation.expired,
    is_cancelled: invitation.cancelledAt !== null,
  }
}

const uriList = { type: 'array', items: { type: 'string' } } as const

export const clientSchema = object({
  object: { type: 'string', enum: ['client'] },
  client_id: { type: 'string' },
  kind: { type: 'string', enum: ['registered', 'dynamic', 'metadata_document'] },
  name: { type: 'string' },
  redirect_uris: uriList,
  confidential: { type: 'boolean' },
  first_party: { type: 'boolean' },
  skip_consent: { type: 'boolean' },
  team_id: { type: ['integer', 'null'] },
  owner_id: { type: ['integer', 'null'] },
  post_logout_redirect_uris: uriList,
  backchannel_logout_uri: { type: ['string', 'null'] },
  id_token_signed_response_alg: { type: 'string' },
  created_at: timestamp,
  updated_at: timestamp,
})

export function clientJson(client: Client) {
  return {
    object: 'client' as const,
    client_id: client.id,
    kind: client.kind,
    name: client.name,
    redirect_uris: client.redirectUris,
    confidential: client.isConfidential,
    first_party: client.isFirstParty,
    skip_consent: client.skipConsent,
    team_id: client.teamId,
    owner_id: client.ownerUserId,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    backchannel_logout_uri: client.backchannelLogoutUri,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    created_at: iso(client.createdAt),
    updated_at: iso(client.updatedAt),
  }
}

/** A client as created or with a new secret: the secret is in this answer only. */
export const clientWithSecretSchema = object(
  { ...clientSchema.properties, client_secret: { type: 'string', description: 'Shown only in this answer; public clients have none.' } },
  ['client_secret'],
)

export const grantSchema = object({
  object: { type: 'string', enum: ['grant'] },
  user_id: { type: 'integer' },
  team_id: { type: 'integer' },
  client_id: { type: 'string' },
  client_name: { type: 'string' },
  authorised_at: timestamp,
  last_used_at: nullableTimestamp,
})

export function grantJson(userId: number, teamId: number, app: TeamApp) {
  return {
    object: 'grant' as const,
    user_id: userId,
    team_id: teamId,
    client_id: app.clientId,
    client_name: app.name,
    authorised_at: iso(app.authorisedAt),
    last_used_at: isoOrNull(app.lastUsedAt),
  }
}

export const personalAccessTokenSchema = object({
  object: { type: 'string', enum: ['personal_access_token'] },
  id: { type: 'string' },
  user_id: { type: 'integer' },
  team_id: { type: 'integer' },
  name: { type: 'string' },
  created_at: timestamp,
  expires_at: timestamp,
  last_used_at: nullableTimestamp,
})

export function personalAccessTokenJson(token: PersonalAccessToken) {
  return {
    object: 'personal_access_token' as const,
    id: token.id,
    user_id: token.userId,
    team_id: token.teamId,
    name: token.name,
    created_at: iso(token.createdAt),
    expires_at: iso(token.expiresAt),
    last_used_at: isoOrNull(token.lastUsedAt),
  }
}

export const sessionSchema = object({
  object: { type: 'string', enum: ['session'] },
  sid: { type: 'string' },
  user_id: { type: 'integer' },
  user_agent: { type: ['string', 'null'] },
  ip_address: { type: ['string', 'null'] },
  created_at: timestamp,
  authenticated_at: timestamp,
  last_active_at: timestamp,
  expires_at: timestamp,
})

export function sessionJson(userId: number, session: SessionListRow) {
  return {
    object: 'session' as const,
    sid: session.sid,
    user_id: userId,
    user_agent: session.userAgent,
    ip_address: session.address,
    created_at: iso(session.createdAt),
    authenticated_at: iso(session.authenticatedAt),
    last_active_at: iso(session.lastActiveAt),
    expires_at: iso(session.expiresAt),
  }
}

export const resourceSchema = object({
  object: { type: 'string', enum: ['resource'] },
  uri: { type: 'string' },
  name: { type: 'string' },
  scopes: { type: 'array', items: { type: 'string' } },
})

export function resourceJson(resource: Resource) {
  return { object: 'resource' as const, uri: resource.uri, name: resource.name, scopes: resource.scopes }
}

export const activitySchema = object({
  object: { type: 'string', enum: ['activity'] },
  id: { type: 'integer' },
  action: { type: 'string' },
  team_id: { type: ['integer', 'null'] },
  user_id: { type: ['integer', 'null'] },
  client_id: { type: ['string', 'null'] },
  personal_access_token_id: { type: ['string', 'null'] },
  admin_token_id: { type: ['string', 'null'] },
  detail: { type: ['string', 'null'] },
  ip_address: { type: ['string', 'null'] },
  created_at: timestamp,
})

export function activityJson(activity: Activity) {
  return {
    object: 'activity' as const,
    id: activity.id,
    action: activity.action,
    team_id: activity.teamId,
    user_id: activity.userId,
    client_id: activity.clientId,
    personal_access_token_id: activity.personalAccessTokenId,
    admin_token_id: activity.adminTokenId,
    detail: activity.detail,
    ip_address: activity.address,
    created_at: iso(activity.createdAt),
  }
}

export const webhookEndpointSchema = object({
  object: { type: 'string', enum: ['webhook_endpoint'] },
  id: { type: 'string' },
  team_id: { type: 'integer' },
  url: { type: 'string' },
  events: { type: 'array', items: { type: 'string' } },
  enabled: { type: 'boolean' },
  disabled_at: nullableTimestamp,
  disabled_reason: { type: ['string', 'null'] },
  created_at: timestamp,
  updated_at: timestamp,
})

export const webhookEndpointWithSecretSchema = object({
  ...webhookEndpointSchema.properties,
  secret: { type: 'string', description: 'The signing secret (Standard Webhooks, whsec_…): in this answer only.' },
})

export function webhookEndpointJson(endpoint: WebhookEndpoint) {
  return {
    object: 'webhook_endpoint' as const,
    id: endpoint.id,
    team_id: endpoint.teamId,
    url: endpoint.url,
    events: endpoint.events,
    enabled: endpoint.enabled,
    disabled_at: isoOrNull(endpoint.disabledAt),
    disabled_reason: endpoint.disabledReason,
    created_at: iso(endpoint.createdAt),
    updated_at: iso(endpoint.updatedAt),
  }
}

export const webhookDeliverySchema = object({
  object: { type: 'string', enum: ['webhook_delivery'] },
  id: { type: 'string', description: 'The webhook-id header of every attempt.' },
  endpoint_id: { type: 'string' },
  event_type: { type: 'string' },
  payload: { type: 'string', description: 'The body as sent.' },
  status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
  attempts: { type: 'integer' },
  response_status: { type: ['integer', 'null'] },
  latency_ms: { type: ['integer', 'null'] },
  error: { type: ['string', 'null'] },
  created_at: timestamp,
  last_attempt_at: nullableTimestamp,
})

export function webhookDeliveryJson(delivery: WebhookDelivery) {
  return {
    object: 'webhook_delivery' as const,
    id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_type: delivery.eventType,
    payload: delivery.payload,
    status: delivery.status,
    attempts: delivery.attempts,
    response_status: delivery.responseStatus,
    latency_ms: delivery.latencyMs,
    error: delivery.error,
    created_at: iso(delivery.createdAt),
    last_attempt_at: isoOrNull(delivery.lastAttemptAt),
  }
}

export const trustedIssuerSchema = object({
  object: { type: 'string', enum: ['trusted_issuer'] },
  id: { type: 'integer' },
  issuer: { type: 'string' },
  jwks_uri: { type: 'string' },
  team_id: { type: 'integer' },
  created_at: timestamp,
})

export function trustedIssuerJson(trusted: TrustedIssuer) {
  return {
    object: 'trusted_issuer' as const,
    id: trusted.id,
    issuer: trusted.issuer,
    jwks_uri: trusted.jwksUri,
    team_id: trusted.teamId,
    created_at: new Date(trusted.createdAt).toISOString(),
  }
}
