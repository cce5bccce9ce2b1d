/**
 * Protocol errors, named after their RFC 6749 error codes (§4.1.2.1, §5.2)
 * and RFC 7009/7662. One handler turns them into JSON or a redirect.
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

export class InvalidRequest extends OAuthError {
  constructor(description: string) {
    super('invalid_request', description)
  }
}

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

export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', description)
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description)
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', description)
  }
}

export class UnsupportedResponseType extends OAuthError {
  constructor(description: string) {
    super('unsupported_response_type', description)
  }
}

export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description)
  }
}

export class AccessDenied extends OAuthError {
  constructor(description = 'The user denied the request.') {
    super('access_denied', description, 403)
  }
}

export class TemporarilyUnavailable extends OAuthError {
  constructor(description: string) {
    super('temporarily_unavailable', description, 503)
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

export class RequestUriNotSupported extends OAuthError {
  constructor() {
    super('request_uri_not_supported', 'The request_uri parameter is not supported.')
  }
}
