import { bearerChallenge } from '../../resource-server/index.js'

/** An API failure: a stable `error` code for programs and a `message` for people. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    /** RFC 6750 §3: the challenge for 401 and 403 answers. */
    readonly challenge?: string,
  ) {
    super(message)
  }
}

const REALM = 'gatehouse'

/**
 * The API's challenges name its RFC 9728 metadata (`resource_metadata`), so
 * a client that knows only the API's URL finds where to get a token.
 */
export function missingToken(resourceMetadataUrl?: string): ApiError {
  return new ApiError(401, 'unauthenticated', 'Send an access token: Authorization: Bearer <token>.', bearerChallenge({ realm: REALM, resourceMetadataUrl }))
}

export function invalidToken(reason: string, resourceMetadataUrl?: string): ApiError {
  return new ApiError(
    401,
    'invalid_token',
    `The access token is not valid (${reason}).`,
    bearerChallenge({ realm: REALM, resourceMetadataUrl, error: 'invalid_token', errorDescription: reason }),
  )
}

export function tokenOutsideHeader(resourceMetadataUrl?: string): ApiError {
  return new ApiError(
    400,
    'invalid_request',
    'Send the access token in the Authorization header, never in the query string or the body.',
    bearerChallenge({ realm: REALM, resourceMetadataUrl, error: 'invalid_request' }),
  )
}

export function insufficientScope(scope: string, resourceMetadataUrl?: string): ApiError {
  return new ApiError(
    403,
    'insufficient_scope',
    `The access token lacks the "${scope}" scope.`,
    bearerChallenge({ realm: REALM, resourceMetadataUrl, error: 'insufficient_scope', scope }),
  )
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError
}
