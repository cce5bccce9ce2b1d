import { mayUseGrant } from '../clients/declared-use.js'
import type { Client } from '../clients/types.js'
import type { TokenResponse } from '../tokens/issue.js'
import { authenticateClient, credentialsOf, type ClientAuthenticationDeps } from './client-authentication.js'
import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../protocol/errors.js'
import { authorizationCodeGrant } from './grants/authorization-code.js'
import { deviceCodeGrant } from './grants/device-code.js'
import { DEVICE_CODE_GRANT } from './device/authorization.js'
import { clientCredentialsGrant } from './grants/client-credentials.js'
import type { GrantDeps } from './grants/deps.js'
import { passwordGrant } from './grants/password.js'
import { refreshTokenGrant } from './grants/refresh-token.js'
import { TOKEN_EXCHANGE_GRANT, tokenExchangeGrant } from './grants/token-exchange.js'
import { JWT_BEARER_GRANT, jwtBearerGrant } from './grants/jwt-bearer.js'
import { param, type RawParams } from '../protocol/params.js'
import { GRANT_TYPES, tokensIssued } from '../observability/metrics.js'

export interface TokenRequest {
  params: RawParams
  authorization: string | undefined
  /** The caller's address, for the client authentication and login throttles. */
  address: string
  /** The token endpoint's full URL, which a client assertion may name as its aud. */
  endpoint: string
}

export type TokenEndpointDeps = GrantDeps & ClientAuthenticationDeps

/** RFC 6749 §5.1: the refresh token is optional, and left out for a client that did not register for the refresh_token grant. */
type TokenEndpointResponse = Omit<TokenResponse, 'refresh_token'> & { refresh_token?: string }

type GrantHandler = (ctx: TokenEndpointDeps, client: Client, params: RawParams, address: string) => Promise<TokenEndpointResponse>

const GRANTS: Record<(typeof GRANT_TYPES)[number], GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  password: passwordGrant,
  [DEVICE_CODE_GRANT]: deviceCodeGrant,
  client_credentials: clientCredentialsGrant,
  [TOKEN_EXCHANGE_GRANT]: tokenExchangeGrant,
  [JWT_BEARER_GRANT]: jwtBearerGrant,
}

export const GRANT_TYPES_SUPPORTED: string[] = Object.keys(GRANTS)

/** RFC 6749 §3.2: authenticates the client, then hands the request to the handler of its grant_type. */
export async function handleTokenRequest(ctx: TokenEndpointDeps, request: TokenRequest): Promise<TokenEndpointResponse> {
  const grantType = param(request.params, 'grant_type')
  if (grantType === undefined || grantType === '') throw new InvalidRequest('The grant_type parameter is required.')
  const known = Object.hasOwn(GRANTS, grantType) ? (grantType as keyof typeof GRANTS) : undefined
  const handler = known && GRANTS[known]
  if (!known || !handler) throw new UnsupportedGrantType(`The grant_type "${grantType}" is not supported.`)
  const { client, method } = await authenticateClient(ctx, credentialsOf(request.params, request))
  if (method === 'none' && grantType === 'password') throw new UnauthorizedClient('A public client cannot use the password grant.')
  // RFC 7591 §2: a client that registered itself uses only the grant types it declared.
  if (!mayUseGrant(client, grantType)) throw new UnauthorizedClient(`This application did not register for the ${grantType} grant.`)
  const response = await handler(ctx, client, request.params, request.address)
  tokensIssued[known].inc()
  return mayUseGrant(client, 'refresh_token') ? response : withoutRefreshToken(response)
}

function withoutRefreshToken(response: TokenEndpointResponse): TokenEndpointResponse {
  const { refresh_token: _unissued, ...rest } = response
  return rest
}
