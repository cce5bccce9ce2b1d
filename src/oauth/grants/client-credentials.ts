import { withinDeclaredScope } from '../../clients/declared-use.js'
import { isServiceClient, type Client } from '../../clients/types.js'
import { insertImpliedConsentIfAbsent } from '../../db/consents.js'
import { findUserInTeam } from '../../db/users.js'
import { InvalidGrant, InvalidScope, UnauthorizedClient } from '../../protocol/errors.js'
import { param, repeatedParam, type RawParams } from '../../protocol/params.js'
import { formatScopes, isOpenIdRequest, parseScope } from '../../protocol/scopes.js'
import { resolveResources } from '../../resources/resources.js'
import { grantAccessToken, type AccessTokenResponse } from './access-token-grant.js'
import type { GrantDeps } from './deps.js'

/**
 * RFC 6749 §4.4: a service client gets a token for itself, that is for its
 * service account, in its team. `scope` and `resource` (RFC 8707) work as
 * in the other grants; there is no user to sign in, so no OpenID scopes.
 */
export async function clientCredentialsGrant(ctx: GrantDeps, client: Client, params: RawParams, address: string): Promise<AccessTokenResponse> {
  if (!isServiceClient(client) || client.teamId === null) throw new UnauthorizedClient('Only service clients may use the client_credentials grant.')
  const resources = await resolveResources(ctx.db, ctx.config.issuer, repeatedParam(params, 'resource'))
  const scopes = withinDeclaredScope(
    client,
    parseScope(
      param(params, 'scope'),
      resources.flatMap((r) => r.scopes),
    ),
  )
  if (isOpenIdRequest(scopes)) throw new InvalidScope('The openid scope signs a person in; a service client has no one to sign in.')
  const userId = client.serviceAccountId!
  const teamId = client.teamId
  const account = await findUserInTeam(ctx.db.kysely, userId, teamId)
  if (!account || account.user.isDisabled) throw new InvalidGrant("The client's service account is disabled.")
  if (!account.isMember) throw new InvalidGrant("The client's service account is no longer a member of its team.")

  const response = await grantAccessToken(ctx, { clientId: client.id, userId, teamId, scopes, audience: resources.map((r) => r.uri) }, (trx, now) =>
    // Recorded so the client shows on Team apps, authorised by its service account, and can be revoked there.
    insertImpliedConsentIfAbsent(trx, userId, client.id, teamId, formatScopes(scopes), now),
  )
  ctx.activity.record({ action: 'token.issued', teamId, userId, clientId: client.id, detail: 'client_credentials grant', address })
  return response
}
