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

const REALM = 'realm="gatehouse"'

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`
}

export function missingToken(): ApiError {
  return new ApiError(401, 'unauthenticated', 'Send an access token: Authorization: Bearer <token>.', `Bearer ${REALM}`)
}

export function invalidToken(reason: string): ApiError {
  return new ApiError(
    401,
    'invalid_token',
    `The access token is not valid (${reason}).`,
    `Bearer ${REALM}, error="invalid_token", error_description=${quoted(reason)}`,
  )
}

export function tokenOutsideHeader(): ApiError {
  return new ApiError(
    400,
    'invalid_request',
    'Send the access token in the Authorization header, never in the query string or the body.',
    `Bearer ${REALM}, error="invalid_request"`,
  )
}

export function insufficientScope(scope: string): ApiError {
  return new ApiError(
    403,
    'insufficient_scope',
    `The access token lacks the "${scope}" scope.`,
    `Bearer ${REALM}, error="insufficient_scope", scope=${quoted(scope)}`,
  )
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError
}
