import type { Generated } from 'kysely'

// Times are epoch milliseconds in every table, so both dialects compare and
// sort them the same way; booleans are 0/1 integers for the same reason.

export interface UserTable {
  id: Generated<number>
  email: string
  email_normalized: string
  name: string
  password_hash: string
  is_verified: number
  is_disabled: number
  created_at: number
  updated_at: number
  /** 1 for the user a service client acts as: no password, never logs in. */
  is_service_account: Generated<number>
}

export interface TeamTable {
  id: Generated<number>
  name: string
  created_at: number
  updated_at: number
  /** 1: members must sign in with a second factor to work in the team. */
  require_two_factor: Generated<number>
}

export interface MembershipTable {
  team_id: number
  user_id: number
  role: 'owner' | 'member'
  created_at: number
}

export interface SessionTable {
  id_hash: string
  user_id: number
  active_team_id: number | null
  created_at: number
  expires_at: number
  /** The session's public id (the ID token's `sid`); not a secret. */
  sid: string
  /** When the user last entered their password in this session (the ID token's `auth_time`). */
  authenticated_at: number
  /** The browser's User-Agent header as sent, cut to a length worth keeping; null for sessions older than the column. */
  user_agent: string | null
  /** The address the session was last used from. */
  address: string | null
  /** When the session was last used, to the minute. */
  last_active_at: number | null
  /** RFC 8176 methods the login used, space-separated; null: the password alone. */
  amr: string | null
}

/** A user's second factor: an authenticator app (TOTP) or a passkey (WebAuthn). */
export interface UserFactorTable {
  id: string
  user_id: number
  kind: 'totp' | 'passkey'
  name: string
  /** The TOTP secret, sealed under GATEHOUSE_SECRET. */
  secret_encrypted: string | null
  /** The last TOTP time step accepted: a code is never accepted twice. */
  last_used_step: number | null
  credential_id: string | null
  public_key: string | null
  sign_count: number | null
  transports: string | null
  /** Null while an authenticator app awaits its first correct code. */
  confirmed_at: number | null
  created_at: number
  last_used_at: number | null
}

/** A WebAuthn challenge handed to a browser: taken once, before `expires_at`, by the session or form it is bound to. */
export interface WebauthnChallengeTable {
  id: string
  purpose: string
  /** A keyed hash of the session or login form the challenge belongs to. */
  binding: string
  /** Whose passkey must answer; null for a passwordless login, where any user's may. */
  user_id: number | null
  challenge: string
  expires_at: number
}

/** Single-use recovery codes, by keyed hash. */
export interface RecoveryCodeTable {
  code_hash: string
  user_id: number
  created_at: number
  used_at: number | null
}

/** Attempts counted by a throttle: `login:address:…`, `login:account:…`, `client:…`. */
export interface ThrottleCounterTable {
  key: string
  attempts: number
  window_started_at: number
  /** The end of the window: after it the row is no use and may be pruned. */
  expires_at: number
}

/** Mail waiting to be sent; the row goes once the mail is sent or given up on. */
export interface MailOutboxTable {
  id: string
  recipient: string
  /** What the mail is for (password reset, e-mail change…): the activity log's and the logs' word for it. */
  kind: string
  /** Subject, text and HTML as JSON, sealed under GATEHOUSE_SECRET: it carries links with tokens. */
  body_encrypted: string
  attempts: Generated<number>
  next_attempt_at: number
  give_up_at: number
  /** Until when a process that claimed the mail is sending it; null when no one is. */
  lease_until: number | null
  created_at: number
}

/** A single-use link sent by mail: a password reset, an e-mail verification or change. */
export interface AccountLinkTable {
  token_hash: string
  user_id: number
  purpose: string
  /** The address the link was sent to: for an e-mail change, the new address. */
  email: string
  /** A hash of the password hash when the link was made: the link dies when the password changes. */
  password_stamp: string
  /** The short-lived token the link was exchanged for on first view, hashed. */
  form_token_hash: string | null
  form_expires_at: number | null
  created_at: number
  expires_at: number
  consumed_at: number | null
}

/** An invitation to join a team, sent to one address; its link's token is stored hashed. */
export interface InvitationTable {
  id: string
  token_hash: string
  team_id: number
  email: string
  email_normalized: string
  role: 'owner' | 'member'
  invited_by: number | null
  /** The short-lived token the link was exchanged for on first view, hashed. */
  form_token_hash: string | null
  form_expires_at: number | null
  created_at: number
  expires_at: number
  accepted_at: number | null
  cancelled_at: number | null
}

export interface AdminTokenTable {
  id: string
  name: string
  scope: 'admin:read' | 'admin:write'
  token_hash: string
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  last_used_at: number | null
}

/** A POST sent with an Idempotency-Key: the request's hash, then its answer once there is one. */
export interface AdminIdempotencyKeyTable {
  admin_token_id: string
  key: string
  request_hash: string
  status: number | null
  /** The answer's body, sealed under GATEHOUSE_SECRET: a create's answer may hold a secret shown once. */
  response_sealed: string | null
  created_at: number
  expires_at: number
}

export interface Database extends OAuthTables, ApiTables, PortalTables {
  admin_tokens: AdminTokenTable
  admin_idempotency_keys: AdminIdempotencyKeyTable
  mail_outbox: MailOutboxTable
  account_links: AccountLinkTable
  invitations: InvitationTable
  users: UserTable
  teams: TeamTable
  memberships: MembershipTable
  sessions: SessionTable
  throttle_counters: ThrottleCounterTable
  user_factors: UserFactorTable
  recovery_codes: RecoveryCodeTable
  webhook_endpoints: WebhookEndpointTable
  webhook_deliveries: WebhookDeliveryTable
  webhook_outbox: WebhookOutboxTable
  webauthn_challenges: WebauthnChallengeTable
}

export interface ClientTable {
  id: string
  name: string
  /** JSON array of the registered redirect URLs, as given. */
  redirect_uris: string
  is_confidential: number
  is_first_party: number
  /** Keyed SHA-256 of the secret, checked in constant time. */
  secret_hash: string | null
  /** The secret itself, encrypted under GATEHOUSE_SECRET, so the owner can view it again. */
  secret_encrypted: string | null
  /** Null for clients that registered themselves or are known by a metadata document. */
  owner_user_id: number | null
  team_id: number | null
  created_at: number
  updated_at: number
  /** First-party clients the operator marked: the consent page is not shown. */
  skip_consent: Generated<number>
  /** JSON array of the URLs the browser may be sent to after RP-initiated logout. */
  post_logout_redirect_uris: Generated<string>
  backchannel_logout_uri: string | null
  /** 'registered' (portal, command line), 'dynamic' (RFC 7591), 'metadata_document' (an https client_id). */
  kind: Generated<string>
  /** The client metadata as registered or fetched, JSON. */
  metadata: string | null
  /** RFC 7592: hash of the registration access token. */
  registration_token_hash: string | null
  /** When a metadata-document client's document is to be fetched again. */
  metadata_expires_at: number | null
  /** OpenID Connect Registration §2: the JWS algorithm of the client's ID tokens. */
  id_token_signed_response_alg: Generated<string>
  /** The service account a service client's tokens act as; null for other clients. */
  service_user_id: number | null
  /** RFC 7591 §2: the one way the client authenticates; null: by its secret if it has one (basic or post), else none. */
  token_endpoint_auth_method: string | null
  /** RFC 7591 §2: the client's public keys, a JWK Set as JSON, for private_key_jwt. */
  jwks: string | null
  /** RFC 7591 §2: where the client's public keys are fetched from, for private_key_jwt. */
  jwks_uri: string | null
  /** RFC 8693: an operator let the client exchange tokens it was given for tokens of its own. */
  token_exchange: Generated<number>
}

/** RFC 7523 §3: the jti of each client assertion accepted, hashed, kept until the assertion expires so it is never accepted twice. */
export interface ClientAssertionTable {
  jti_hash: string
  client_id: string
  expires_at: number
}

export interface RegistrationTokenTable {
  token_hash: string
  created_at: number
  expires_at: number
}

/** OpenID Connect: what the ID token of a code or grant says about the login. */
interface OpenIdColumns {
  nonce: string | null
  sid: string | null
  auth_time: number | null
  /** RFC 8176 methods of the login, space-separated; null: the password alone. */
  amr: string | null
}

/** The clients a session signed in to through OpenID Connect, told by back-channel logout when it ends. */
export interface SessionClientTable {
  sid: string
  client_id: string
  user_id: number
  created_at: number
  expires_at: number
}

export interface BackchannelDeliveryTable {
  id: string
  client_id: string
  sid: string
  user_id: number
  uri: string
  attempts: Generated<number>
  next_attempt_at: number
  give_up_at: number
  /** Until when a process that claimed the delivery is sending it; null when no one is. */
  lease_until: number | null
  created_at: number
}

export interface AuthorizationCodeTable extends OpenIdColumns {
  code_hash: string
  client_id: string
  user_id: number
  team_id: number
  redirect_uri: string
  scopes: string
  code_challenge: string | null
  /** The grant the code becomes when redeemed; known in advance so a replay can revoke it. */
  grant_id: string
  created_at: number
  expires_at: number
  consumed_at: number | null
  /** RFC 8707 resource URIs, space-separated; empty: the token's audience is its client. */
  resources: Generated<string>
}

/** One authorization of a client by a user for a team: every token descending from it shares its id. */
export interface GrantTable extends OpenIdColumns {
  id: string
  client_id: string
  user_id: number
  team_id: number
  scopes: string
  created_at: number
  revoked_at: number | null
  /** RFC 8707 resource URIs, space-separated; empty: the token's audience is its client. */
  resources: Generated<string>
  /** RFC 8693: the grant of the subject token this grant was exchanged from; revoking that one ends this one. */
  parent_grant_id: string | null
}

export interface AccessTokenTable {
  jti: string
  grant_id: string
  client_id: string
  user_id: number
  team_id: number
  scopes: string
  created_at: number
  expires_at: number
  revoked_at: number | null
  /** RFC 8707 resource URIs, space-separated; empty: the token's audience is its client. */
  resources: Generated<string>
  /** RFC 8693 §4.1: the `act` claim of an exchanged token, JSON; null for others. */
  act: string | null
}

export interface RefreshTokenTable {
  token_hash: string
  grant_id: string
  /** The access token issued together with this refresh token; it ends when this is used. */
  access_token_jti: string
  client_id: string
  created_at: number
  expires_at: number
  consumed_at: number | null
  revoked_at: number | null
}

export interface ConsentTable {
  user_id: number
  client_id: string
  team_id: number
  scopes: string
  created_at: number
  updated_at: number
  /** RFC 8707 resource URIs, space-separated; empty: the token's audience is its client. */
  resources: Generated<string>
  /** 1 when the user never saw the consent page for it: the client skipped it. */
  implied: Generated<number>
}

export interface SigningKeyTable {
  kid: string
  algorithm: string
  public_jwk: string
  private_key_encrypted: string
  created_at: number
  /** When a newer key took over signing; the public key stays published until its tokens expire. */
  retired_at: number | null
}

/** An authorization request shown on a consent page, waiting for the user's decision. */
export interface AuthorizationRequestTable {
  id_hash: string
  /** The browser session that was shown the page: only it may decide. */
  session_id_hash: string
  client_id: string
  team_id: number
  /** JSON object: the request's parameters as the page showed them. */
  parameters: string
  created_at: number
  expires_at: number
  consumed_at: number | null
}

/**
 * RFC 8628: a device authorization request. `pending` until the user decides
 * on the /device page, then `approved` (with the user, team and login) or
 * `denied`; `consumed_at` once the device redeemed it.
 */
export interface DeviceAuthorizationTable {
  device_code_hash: string
  user_code_hash: string
  client_id: string
  scopes: string
  /** RFC 8707 resource URIs, space-separated; empty: the token's audience is its client. */
  resources: string
  /** RFC 8628 §3.5: how long the device must wait between polls; grows by 5 s on each slow_down. */
  interval_seconds: number
  last_polled_at: number | null
  status: 'pending' | 'approved' | 'denied'
  user_id: number | null
  team_id: number | null
  /** The grant the device code becomes when redeemed; known in advance so a replay can revoke it. */
  grant_id: string
  /** When the approving user entered their password, for an ID token's auth_time. */
  auth_time: number | null
  /** RFC 8176 methods of the approving session's login, space-separated; null: the password alone. */
  amr: string | null
  created_at: number
  expires_at: number
  decided_at: number | null
  consumed_at: number | null
}

/** RFC 8707: a service tokens may be issued for, registered by the operator. */
export interface ResourceTable {
  uri: string
  name: string
  /** Space-separated scopes the resource defines, beyond Gatehouse's own. */
  scopes: string
  /** JSON: scope → what it lets an app do, in words, for the consent page. */
  scope_descriptions: Generated<string>
  created_at: number
}

export interface OAuthTables {
  resources: ResourceTable
  registration_tokens: RegistrationTokenTable
  clients: ClientTable
  authorization_codes: AuthorizationCodeTable
  authorization_requests: AuthorizationRequestTable
  device_authorizations: DeviceAuthorizationTable
  grants: GrantTable
  access_tokens: AccessTokenTable
  refresh_tokens: RefreshTokenTable
  consents: ConsentTable
  signing_keys: SigningKeyTable
  session_clients: SessionClientTable
  backchannel_deliveries: BackchannelDeliveryTable
  client_assertions: ClientAssertionTable
  trusted_issuers: TrustedIssuerTable
}

/** An enterprise identity provider an operator trusts to assert who its users are, for one team. */
export interface TrustedIssuerTable {
  id: Generated<number>
  issuer: string
  jwks_uri: string
  team_id: number
  created_at: number
}

export interface PersonalAccessTokenTable {
  id: string
  user_id: number
  team_id: number
  name: string
  token_hash: string
  created_at: number
  expires_at: number
  last_used_at: number | null
}

export interface ActivityTable {
  id: Generated<number>
  team_id: number | null
  user_id: number | null
  client_id: string | null
  personal_access_token_id: string | null
  action: string
  /** A short, secret-free description: the request line, the token kind, the app's name. */
  detail: string | null
  address: string | null
  created_at: number
  /** The admin token the action was taken with, if any. */
  admin_token_id: string | null
}

export interface FormSubmissionTable {
  /** Hash of the session id and the form instance's nonce. */
  key_hash: string
  location: string | null
  created_at: number
  expires_at: number
}

export interface ShownOnceTable {
  id_hash: string
  session_hash: string
  subject_id: string
  /** Encrypted under GATEHOUSE_SECRET; deleted by the one view that shows it. */
  secret_encrypted: string
  created_at: number
  expires_at: number
}

export interface PortalTables {
  form_submissions: FormSubmissionTable
  shown_once: ShownOnceTable
}

/** API calls of one token in one minute: how many, and the last one's path and status. */
export interface ApiUsageTable {
  /** The access token's jti, or the personal access token's id. */
  token_id: string
  /** The minute's start, epoch milliseconds. */
  minute: number
  team_id: number
  user_id: number
  client_id: string | null
  personal_access_token_id: string | null
  calls: number
  last_path: string
  last_status: number
  last_at: number
}

export interface ApiTables {
  personal_access_tokens: PersonalAccessTokenTable
  activities: ActivityTable
  api_usage: ApiUsageTable
}

/** A team's webhook endpoint; `events` is a JSON array of event types. */
export interface WebhookEndpointTable {
  id: string
  team_id: number
  url: string
  events: string
  /** The `whsec_` signing secret, sealed under the master key: it is read back to sign. */
  secret_encrypted: string
  disabled_at: number | null
  disabled_reason: string | null
  created_at: number
  updated_at: number
}

/** One event sent (or being sent) to one endpoint; its id is the `webhook-id` of every attempt. */
export interface WebhookDeliveryTable {
  id: string
  endpoint_id: string
  event_type: string
  payload: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: Generated<number>
  /** The receiver's HTTP status at the last attempt; null when none answered. */
  response_status: number | null
  latency_ms: number | null
  error: string | null
  created_at: number
  last_attempt_at: number | null
}

/** A delivery still to make: the shared leased queue's columns. */
export interface WebhookOutboxTable {
  id: string
  attempts: Generated<number>
  next_attempt_at: number
  give_up_at: number
  lease_until: number | null
  created_at: number
}
