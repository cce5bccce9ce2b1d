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
  password_too_short: 'The password must be at least 8 characters long.',
  password_too_long: 'The password must be at most 1024 characters long.',
  user_not_found: 'No user has this e-mail address.',
  team_not_found: 'No team has this name.',
  team_name_required: 'Enter a team name.',
  team_not_member: 'You are not a member of that team.',
  role_invalid: 'The role must be owner or member.',
  redirect_uri_required: 'Enter at least one redirect URL.',
  redirect_uri_invalid: 'Enter a full URL, such as https://example.com/callback.',
  redirect_uri_not_https: 'Redirect URLs must use https (plain http is allowed only for 127.0.0.1, [::1] and localhost).',
  redirect_uri_fragment: 'Redirect URLs must not contain a fragment (#…).',
  redirect_uri_credentials: 'Redirect URLs must not contain a user name or password.',
  redirect_uri_duplicate: 'Each redirect URL may be listed only once.',
  skip_consent_first_party: 'Only first-party clients with a secret may skip the consent page.',
  redirect_uri_unsafe_characters: 'Redirect URLs must not contain spaces, tabs, line breaks or other control characters.',
  redirect_uri_no_host: 'Redirect URLs must name a host after the //, as in https://example.com/callback.',
  redirect_uri_not_canonical:
    'Write the redirect URL the way a browser shows it: host in lower case, no default port, a / after the host, and special characters percent-encoded (for example https://example.com/ rather than https://Example.com).',
  client_name_required: 'Enter a name for the application.',
  client_name_too_long: 'The name must be at most 100 characters long.',
  client_not_found: 'No API client has this Client ID.',
  client_forbidden: 'Only the person who registered this API client or an owner of its team can see its secret or change it.',
  client_no_secret: 'This API client is public: it has no Client secret and uses PKCE instead.',
  no_active_team: 'You need to be a member of a team to do this. Ask a team owner to add you.',
  token_name_required: 'Enter a descriptive name for the token.',
  token_name_too_long: 'The name must be at most 100 characters long.',
  token_lifetime_invalid: 'Tokens last between 1 day and 1 year.',
  token_not_found: 'No such token.',
  team_app_not_found: 'No user of your team has authorised this app.',
  csrf_failed: 'The form has expired. Go back, reload the page and try again.',
  not_found: 'There is nothing at this address.',
  internal: 'Something went wrong on our side. Try again in a moment.',
  unavailable: 'Gatehouse cannot reach its database right now. Try again in a moment.',
} as const

export type MessageCode = keyof typeof MESSAGES

/** A failure a person can act on; `code` names its message. */
export class AppError extends Error {
  override readonly name = 'AppError'
  constructor(
    readonly code: MessageCode,
    readonly status = 400,
  ) {
    super(MESSAGES[code])
  }
}
