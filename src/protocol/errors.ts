/**
 * Protocol errors, named after their error codes: RFC 6749 (§4.1.2.1,
 * §5.2, which RFC 7009 and 7662 reuse), RFC 6750, RFC 7591, RFC 8628, RFC 8707 and
 * OpenID Connect Core. One handler turns them into JSON or a redirect.
 */
export class OAuthError extends Error {
  override readonly name: string = 'OAuthError'
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description)
  }
}

/** RFC 6749 §4.1.2.1, §5.2: a parameter is missing, repeated or malformed; 405 when the method is the wrong one (RFC 9110 §15.5.6). */
export class InvalidRequest extends OAuthError {
  constructor(description: string, status: 400 | 405 = 400) {
    super('invalid_request', description, status)
  }
}

/** RFC 6749 §5.2: the client is unknown, or its authentication failed. */
export class InvalidClient extends OAuthError {
  constructor(
    description = 'Client authentication failed.',
    /** RFC 6749 §5.2: a client that tried HTTP Basic is answered with a Basic challenge. */
    readonly usedBasic = false,
  ) {
    super('invalid_client', description, 401)
  }
}

/**
 * Too many failed client authentications for one client from one address
 * (RFC 6819 §5.1.4.2.3): 429, with Retry-After. RFC 6749 names no error for
 * it; the request fails client authentication, so `invalid_client`.
 */
export class ClientAuthenticationThrottled extends OAuthError {
  constructor(readonly retryAfter: number) {
    super('invalid_client', `Too many failed client authentication attempts for this client from this address. Try again in ${retryAfter} seconds.`, 429)
  }
}

/** RFC 6749 §5.2: the code, refresh token or password is not valid, or was issued to another client. */
export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', description)
  }
}

/** RFC 6749 §4.1.2.1, §5.2: the client may not use this grant or response type. */
export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description)
  }
}

/** RFC 6749 §5.2. */
export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', description)
  }
}

/** RFC 6749 §4.1.2.1. */
export class UnsupportedResponseType extends OAuthError {
  constructor(description: string) {
    super('unsupported_response_type', description)
  }
}

/** RFC 6749 §4.1.2.1, §5.2: a scope is unknown, malformed, or wider than the grant. */
export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description)
  }
}

/** RFC 6749 §4.1.2.1: the user or the server refused the request; 400 at the token endpoint (RFC 8628 §3.5, RFC 6749 §5.2). */
export class AccessDenied extends OAuthError {
  constructor(description = 'The user denied the request.', status: 400 | 403 = 403) {
    super('access_denied', description, status)
  }
}

/** RFC 8628 §3.5: the user has not yet decided; the device polls again after its interval. */
export class AuthorizationPending extends OAuthError {
  constructor() {
    super('authorization_pending', 'The user has not yet approved or denied the request.')
  }
}

/** RFC 8628 §3.5: the device polled before its interval passed; the interval grows by 5 seconds. */
export class SlowDown extends OAuthError {
  constructor(intervalSeconds: number) {
    super('slow_down', `Polling too fast: wait at least ${intervalSeconds} seconds between requests.`)
  }
}

/** RFC 8628 §3.5: the device code expired; the device starts a new authorization. */
export class ExpiredToken extends OAuthError {
  constructor() {
    super('expired_token', 'The device code has expired. Start a new device authorization.')
  }
}

/** RFC 6749 §4.1.2.1: the server cannot answer now; the request may be sent again later. */
export class TemporarilyUnavailable extends OAuthError {
  constructor(description: string) {
    super('temporarily_unavailable', description, 503)
  }
}

/** RFC 6749 §4.1.2.1: something failed on the server's side; the request may be sent again. */
export class ServerError extends OAuthError {
  constructor(description = 'The server could not complete the request.') {
    super('server_error', description, 500)
  }
}

/** RFC 6750 §3.1: a missing or wrong bearer token, here an initial or registration access token (RFC 7591 §3, RFC 7592 §2). */
export class InvalidToken extends OAuthError {
  constructor(description: string) {
    super('invalid_token', description, 401)
  }
}

/** RFC 7591 §3.2.2: a redirect URL the client registers is not acceptable. */
export class InvalidRedirectUri extends OAuthError {
  constructor(description: string) {
    super('invalid_redirect_uri', description)
  }
}

/** RFC 7591 §3.2.2: a field of the client metadata, other than the redirect URLs, is not acceptable. */
export class InvalidClientMetadata extends OAuthError {
  constructor(description: string) {
    super('invalid_client_metadata', description)
  }
}

/** RFC 8707 §2: the resource is unknown, malformed, or not one this grant covers. */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description)
  }
}

/** Too many requests from one address; `retryAfter` is in seconds. */
export class TooManyRequests extends OAuthError {
  constructor(
    description: string,
    readonly retryAfter: number,
  ) {
    super('too_many_requests', description, 429)
  }
}

/** OpenID Connect Core §3.1.2.6: `prompt=none`, and the user would have to log in. */
export class LoginRequired extends OAuthError {
  constructor(description = 'The user must log in.') {
    super('login_required', description)
  }
}

/** OpenID Connect Core §3.1.2.6: `prompt=none`, and the user would have to approve the app. */
export class ConsentRequired extends OAuthError {
  constructor(description = 'The user must approve this application first.') {
    super('consent_required', description)
  }
}

/** OpenID Connect Core §3.1.2.6: `prompt=none`, and some other page would have to be shown. */
export class InteractionRequired extends OAuthError {
  constructor(description: string) {
    super('interaction_required', description)
  }
}

/** OpenID Connect Core §6: request objects are not supported. */
export class RequestNotSupported extends OAuthError {
  constructor() {
    super('request_not_supported', 'The request parameter (a request object) is not supported.')
  }
}

/** OpenID Connect Core §6. */
export class RequestUriNotSupported extends OAuthError {
  constructor() {
    super('request_uri_not_supported', 'The request_uri parameter is not supported.')
  }
}
