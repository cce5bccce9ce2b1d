const CONTROL_CHARACTERS =
  'Names may not contain control characters or invisible text-direction marks (such as U+202E, which shows text backwards): remove them and type the name again.'

/**
 * Everything Gatehouse can tell a person went wrong, by code: the portal,
 * the command line and the API errors take their wording from here.
 */
export const MESSAGES = {
  invalid_credentials: 'The e-mail address or password is incorrect.',
  login_throttled: 'Too many failed attempts. Wait a few minutes and try again.',
  account_disabled: 'This account is disabled.',
  email_taken: 'A user with this e-mail address already exists.',
  email_invalid: 'Enter a valid e-mail address.',
  name_required: 'Enter a name.',
  name_control_characters: CONTROL_CHARACTERS,
  password_too_short: 'The password must be at least 8 characters long.',
  password_too_long: 'The password must be at most 1024 characters long.',
  password_common:
    'This password is on a list of passwords that are used so often that attackers try them first. Choose one that is longer or less usual: a few unrelated words work well.',
  password_incorrect: 'Your current password is incorrect.',
  mail_unavailable: 'This server cannot send mail. Ask your administrator to help you (they can run gatehouse users reset-link).',
  reset_throttled: 'Too many links were asked for this address or from your network. Wait an hour and try again.',
  verification_throttled: 'Too many links were sent. Wait an hour and try again.',
  link_unknown: 'This link is not valid: it may have been cut short or changed. Copy the whole link from the mail, or ask for a new one.',
  link_used: 'This link was already used. Each link works once: ask for a new one.',
  link_expired: 'This link has expired. Ask for a new one.',
  link_stale: 'This link no longer works: the password or the address of the account changed after it was sent. Ask for a new one if you still need it.',
  email_unchanged: 'This is already the address of your account.',
  user_not_found: 'No user has this e-mail address.',
  user_id_not_found: 'No user has this id.',
  team_not_found: 'No team has this name.',
  team_name_required: 'Enter a team name.',
  team_name_control_characters: CONTROL_CHARACTERS,
  team_name_too_long: 'The team name must be at most 100 characters long.',
  team_name_taken: 'A team with this name already exists.',
  team_id_or_name_not_found: 'No team has this id or name.',
  team_not_member: 'You are not a member of that team.',
  user_not_member: 'This user is not a member of that team.',
  role_invalid: 'The role must be owner or member.',
  owner_only: 'Only an owner of the team can do this.',
  already_member: 'This person is already a member of the team.',
  already_invited: 'This address has an invitation already. Send it again from the list of pending invitations.',
  invitation_not_found: 'This invitation was accepted or cancelled in the meantime.',
  invitation_invalid: 'This invitation link is not valid. Check that you copied all of it, or ask the team owner for a new one.',
  invitation_expired: 'This invitation link has expired: invitations are valid for 7 days. Ask the team owner to send it again.',
  invitation_used: 'This invitation link has already been used. Log in to reach the team.',
  invitation_cancelled: 'This invitation was cancelled by the team. Ask the team owner if you still want to join.',
  invitation_other_address:
    'This invitation was sent to another e-mail address than the one you are logged in with. Log out, then open the link again to accept it with that address.',
  last_owner_leave: 'You are the last owner of this team, so you cannot leave it. Make another member an owner first.',
  last_owner_demote: 'This is the last owner of the team: make another member an owner first.',
  last_owner_remove: 'This is the last owner of the team: make another member an owner first.',
  signup_throttled: 'Too many sign-ups from this address or your network. Wait an hour and try again.',
  redirect_uri_required: 'Enter at least one redirect URL.',
  redirect_uri_invalid: 'Enter a full URL, such as https://example.com/callback.',
  redirect_uri_not_https: 'Redirect URLs must use https (plain http is allowed only for 127.0.0.1, [::1] and localhost).',
  redirect_uri_fragment: 'Redirect URLs must not contain a fragment (#…).',
  redirect_uri_credentials: 'Redirect URLs must not contain a user name or password.',
  redirect_uri_duplicate: 'Each redirect URL may be listed only once.',
  backchannel_logout_uri_not_public:
    'The back-channel logout URL must use https on a public host: Gatehouse itself sends logout tokens there, and does not call addresses inside its own network.',
  client_type_unknown: 'Choose what kind of application the client is.',
  client_auth_method_unknown: 'Choose how the client proves itself: its secret, a JWT signed with it, or a private key.',
  skip_consent_first_party: 'Only first-party clients with a secret may skip the consent page.',
  token_exchange_first_party:
    'Only first-party clients with a secret may be allowed to exchange tokens on their page; an operator may allow others with gatehouse clients token-exchange.',
  token_exchange_public: 'Only clients that authenticate (confidential or service clients) may exchange tokens.',
  id_token_alg_unsupported: 'Choose one of the listed algorithms for signing ID tokens.',
  redirect_uri_unsafe_characters: 'Redirect URLs must not contain spaces, tabs, line breaks or other control characters.',
  redirect_uri_no_host: 'Redirect URLs must name a host after the //, as in https://example.com/callback.',
  redirect_uri_not_canonical:
    'Write the redirect URL the way a browser shows it: host in lower case, no default port, a / after the host, and special characters percent-encoded (for example https://example.com/ rather than https://Example.com).',
  client_name_required: 'Enter a name for the application.',
  client_name_too_long: 'The name must be at most 100 characters long.',
  client_name_control_characters: CONTROL_CHARACTERS,
  client_not_found: 'No API client has this Client ID.',
  client_forbidden: 'Only the person who registered this API client or an owner of its team can see its secret or change it.',
  client_keys_public: 'A public client has no secret and no keys: it cannot use client_secret_jwt or private_key_jwt.',
  client_keys_required:
    'A client that uses private_key_jwt registers its public keys: paste a public key (JWK or PEM), or give the https URL of its JWK Set, one of the two.',
  client_keys_unused: 'Public keys are only for clients that use private_key_jwt.',
  client_no_secret_keys: 'This API client proves itself with its private key: it has no Client secret.',
  service_client_redirect_uris: 'Service clients have no redirect URLs: they get tokens for themselves, without a browser.',
  service_account_no_password: 'This is the service account of a service client: it has no password and never logs in.',
  service_account_membership: "This is the service account of a service client: it stays a member of its client's team. Delete the client to remove it.",
  service_client_kind: 'A service client is confidential and not first-party.',
  client_keys_invalid: 'The public key was refused.',
  trusted_issuer_invalid: 'A trusted issuer is an https URL; its jwks_uri is an https URL without credentials or a fragment.',
  trusted_issuer_not_found: 'No trusted issuer has this id.',
  client_no_secret: 'This API client is public: it has no Client secret and uses PKCE instead.',
  resource_uri_invalid: 'A resource URI is an absolute http or https URL without a query, a fragment or credentials, such as https://mcp.example.com/mcp.',
  resource_scope_invalid: 'A scope is printable characters without spaces, quotes or backslashes.',
  resource_scope_description_unknown:
    'A scope description must name one of the scopes given with --scope, as in --scope-description "notes=Read and change your notes".',
  resource_scope_description_invalid: 'A scope description is one line of at most 200 characters.',
  resource_name_required: 'Enter a name for the resource.',
  resource_name_too_long: 'The name must be at most 100 characters long.',
  resource_exists: 'A resource with this URI is registered already.',
  resource_built_in: "Gatehouse's own API is always a resource; it cannot be deleted.",
  resource_not_found: 'No resource has this URI.',
  registration_token_lifetime_invalid: 'An initial access token lasts between 60 seconds and 366 days (--expires-in in seconds).',
  session_not_found: 'That session has already ended, or it is not one of yours.',
  no_active_team: 'You need to be a member of a team to do this. Ask a team owner to add you.',
  token_name_required: 'Enter a descriptive name for the token.',
  token_name_too_long: 'The name must be at most 100 characters long.',
  token_name_control_characters: CONTROL_CHARACTERS,
  token_lifetime_invalid: 'Tokens last between 1 day and 1 year.',
  token_not_found: 'No such token.',
  admin_scope_invalid: 'The scope of an admin token is admin:read or admin:write.',
  admin_token_lifetime_invalid: 'An admin token lasts between 60 seconds and 366 days (--expires-in in seconds), or until it is revoked.',
  admin_token_not_found: 'No admin token that is not revoked has this id.',
  team_app_not_found: 'No user of your team has authorised this app.',
  team_app_forbidden: 'Only the person who authorised this app or an owner of the team can revoke it.',
  authorization_session_ended: 'Log in and start again from the application.',
  device_code_unknown: 'This code is not valid, or it has expired. Check the code your device shows and type it again, or start again on the device.',
  device_code_throttled: 'Too many codes were tried from your network. Wait 15 minutes and try again.',
  device_code_decided: 'This code is no longer waiting for approval: it expired, or it was approved or denied already. Start again on the device.',
  second_factor_incorrect: 'That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes.',
  second_factor_reused: 'This code was used already: each code works once. Wait for your app to show the next one.',
  second_factor_throttled: 'Too many wrong codes.',
  second_factor_expired: 'Signing in took too long. Enter your e-mail address and password again.',
  totp_code_incorrect:
    "That code does not match. Check that your app was set up with the key shown here and that your phone's clock is right, then enter the code it shows now.",
  totp_enrolment_missing: 'This setup was finished or started over elsewhere. Start adding the authenticator app again.',
  factor_not_found: 'That sign-in method was already removed.',
  recovery_codes_need_factor: 'Recovery codes come with two-factor sign-in: add an authenticator app or a passkey first.',
  two_factor_needed_for_app:
    'This app, or your team, asks for two-factor sign-in, and your account has none yet. Add an authenticator app or a passkey on your Sign-in security page (/account/security), then sign in to the app again.',
  passkey_challenge_unknown: 'This passkey request was used already or belongs to another page. Try again.',
  passkey_challenge_expired: 'The passkey request expired: each lasts 3 minutes. Try again.',
  passkey_response_invalid: "The passkey's answer could not be verified. Try again with your passkey.",
  passkey_unknown: 'This passkey is not registered here. Log in with your password, or use another passkey.',
  passkey_of_another_user: 'This passkey belongs to another account. Use a passkey of the account you are signing in to.',
  passkey_counter_backwards:
    "This passkey's signature counter went backwards, a sign of a copied authenticator, so it was refused. Remove it on your Sign-in security page and add it again.",
  passkey_name_missing: 'Give the passkey a name of at most 100 characters, such as the device it is on.',
  passkey_already_added: 'This passkey is already added to an account.',
  passkey_none: 'Your account has no passkey. Enter a code instead.',
  passkey_needed_for_app:
    'This app asks for sign-in with a passkey, and your account has none yet. Add a passkey on your Sign-in security page (/account/security), then sign in to the app again.',
  reauthentication_needed: 'Enter your password again, or use a passkey, to change how you sign in.',
  csrf_failed: 'The form has expired. Go back, reload the page and try again.',
  webhook_url_invalid: 'Enter the full URL of your endpoint, starting with https://.',
  webhook_url_refused:
    'Gatehouse does not send webhooks to this address: it must be https on a public address (an operator can allow internal hosts with GATEHOUSE_WEBHOOK_ALLOWED_HOSTS).',
  webhook_events_required: 'Choose at least one event to send.',
  webhook_event_unknown: 'This is not an event Gatehouse sends.',
  webhook_enabled_invalid: 'enabled must be true or false.',
  webhook_not_found: 'No webhook endpoint has this id.',
  webhook_delivery_not_found: 'No delivery of this endpoint has this id.',
  webhook_delivery_queued: 'This delivery is already waiting to be sent.',
  not_found: 'There is nothing at this address.',
  in_another_team: 'This belongs to another of your teams. Switch to that team to open it.',
  already_deleted: 'This was already deleted or revoked.',
  internal: 'Something went wrong on our side. Try again in a moment.',
  unavailable: 'The sign-in service cannot reach its database right now. Try again in a moment.',
} as const

export type MessageCode = keyof typeof MESSAGES

/**
 * A failure a person can act on; `code` names its message. `refused` is the
 * value given, for the command line, where a script's log must say which of
 * its values was wrong; quoted as JSON so a control character in it cannot
 * rewrite the operator's terminal.
 */
export class Refusal extends Error {
  override readonly name = 'Refusal'
  constructor(
    readonly code: MessageCode,
    readonly status = 400,
    refused?: string,
  ) {
    super(refused === undefined ? MESSAGES[code] : `${MESSAGES[code].replace(/\.$/, '')}: ${JSON.stringify(refused)}.`)
  }
}

/** The green banners shown after a redirect, by page and by the `?done=` code that names them. */
export const BANNERS = {
  clients: {
    created: 'The API client was created.',
    updated: 'The changes were saved.',
    regenerated: 'A new Client secret was generated and the old one no longer works. Put the new secret into your application.',
    deleted: 'The API client was deleted. Every token it held has stopped working.',
    consent_skipped: 'Users are no longer asked to approve this app: they are signed in to it without the consent page.',
    consent_shown: 'Users are asked to approve this app on the consent page again.',
    exchange_allowed: 'This app may now exchange the tokens it is handed for tokens that act on the same user.',
    exchange_denied: 'This app may no longer exchange tokens.',
  },
  tokens: {
    deleted: 'The token was deleted. It no longer works.',
  },
  account: {
    password_reset: 'Your new password is set and you are logged in. Every other session was signed out.',
    password_changed: 'Your password was changed. Every other session was signed out.',
    name_changed: 'Your name was changed.',
    email_sent: 'We sent a link to your new address. Your address changes when you follow it.',
    verification_sent: 'We sent a new link to your address. Follow it to confirm the address.',
    verified: 'Your e-mail address is confirmed.',
    email_changed: 'Your e-mail address was changed.',
  },
  teamSettings: {
    saved: 'The team settings were saved.',
  },
  security: {
    app_added: 'The authenticator app was added. From now on you sign in with your password and a code from the app.',
    removed: 'The sign-in method was removed.',
    passkey_added: 'The passkey was added. You can sign in with it alone, or use it after your password.',
  },
  sessions: {
    ended: 'That session was signed out. Apps it signed in to that listen for it were told.',
    others_ended: 'Every other session was signed out. Apps they signed in to that listen for it were told.',
  },
  members: {
    invited: 'The invitation was sent. It is valid for 7 days.',
    resent: 'The invitation was sent again with a new link, valid for 7 days. The earlier link no longer works.',
    cancelled: 'The invitation was cancelled. Its link no longer works.',
    role_changed: 'The role was changed.',
    removed: 'The member was removed. Every app authorisation and personal access token they held in this team has stopped working.',
  },
  webhooks: {
    created: 'The endpoint was added. Copy its signing secret now: it is shown only this once.',
    deleted: 'The endpoint was deleted. Nothing more is sent to it.',
    enabled: 'The endpoint was enabled again. New events are sent to it.',
    resent: 'The delivery was queued to be sent again, with the same webhook-id.',
  },
  teamApps: {
    revoked: 'Access was revoked. Every token the app held for this team has stopped working; it must ask for authorisation again.',
    revoked_own: 'Your authorisation was revoked. Every token the app held for you in this team has stopped working.',
  },
} as const

/**
 * What a confirmation page says before a destructive action. `{name}` and
 * `{team}` stand for names people typed, which the page shows bidi-isolated.
 */
export interface Confirmation {
  title: string
  message: string
  confirmLabel: string
}

export const CONFIRMATIONS = {
  regenerateClientSecret: {
    title: 'Regenerate the Client secret of {name}',
    message:
      'A new Client secret replaces the current one. The current secret stops working at once: your application cannot get or refresh tokens until it uses the new one. Tokens already issued keep working.',
    confirmLabel: 'Regenerate secret',
  },
  deleteClient: {
    title: 'Delete {name}',
    message:
      'The API client is deleted for good. Every access and refresh token it holds stops working at once, in every team, and its Client ID and secret are refused from now on.',
    confirmLabel: 'Delete API client',
  },
  deleteToken: {
    title: 'Delete token {name}',
    message: 'The token stops working at once: every program that uses it is refused from now on. This cannot be undone.',
    confirmLabel: 'Delete token',
  },
  revokeTeamApp: {
    title: 'Revoke {name}',
    message:
      'Every token {name} holds for the team {team} stops working at once, for every user who authorised it. To use it again, a user must go through the authorisation flow again.',
    confirmLabel: 'Revoke access',
  },
  revokeOwnTeamApp: {
    title: 'Revoke {name}',
    message: 'Every token {name} holds for you in the team {team} stops working at once. To use it again, you must go through the authorisation flow again.',
    confirmLabel: 'Revoke access',
  },
  removeMember: {
    title: 'Remove {name} from {team}',
    message:
      '{name} leaves the team at once. Every app they authorised in this team and every personal access token they made for it stops working. Inviting them again restores none of it.',
    confirmLabel: 'Remove member',
  },
  leaveTeam: {
    title: 'Leave {team}',
    message:
      'You leave the team at once. Every app you authorised in this team and every personal access token you made for it stops working. To come back, an owner must invite you again.',
    confirmLabel: 'Leave team',
  },
} satisfies Record<string, Confirmation>

/** The kinds of thing an address in the portal names, as the pages about them say it. */
export const THINGS = {
  client: { one: 'API client', gone: 'deleted', list: 'Go to your API clients', listHref: '/settings/clients' },
  token: { one: 'personal access token', gone: 'deleted', list: 'Go to your saved tokens', listHref: '/settings/tokens' },
  app: { one: 'app', gone: 'revoked', list: 'Go to Team apps', listHref: '/team/apps' },
} as const

export type Thing = keyof typeof THINGS

/** What the page says when the address names something of another of the user's teams, or something already deleted. */
export const ELSEWHERE = {
  title: 'In another team',
  message: 'The {thing} {name} belongs to the team {team}. You are working in {active}.',
  switchLabel: 'Switch to {team}',
  deletedTitle: { deleted: 'Already deleted', revoked: 'Already revoked' },
  deletedMessage: 'The {thing} {name} was already {gone}, on {at}.',
  deletedUnnamed: 'This {thing} was already {gone}, on {at}.',
} as const

/** Titles of the authorisation pages that stand in for the consent page when something is wrong. */
export const AUTHORIZATION_TITLES = {
  invalid: 'This authorisation request is not valid',
  sessionEnded: 'Your session has ended',
  noTeam: 'No team',
  twoFactorNeeded: 'Two-factor sign-in needed',
  decisionRefused: 'This decision cannot be used',
  consent: 'Authorise {name}',
  device: 'Connect a device',
  deviceApproved: 'Device connected',
  deviceDenied: 'Device not connected',
} as const
