import { randomUUID } from 'node:crypto'
import type { Client } from '../../clients/types.js'
import { holdLiveGrant, insertAccessToken, insertGrant } from '../../db/tokens.js'
import { InvalidGrant, InvalidRequest, InvalidScope, UnauthorizedClient } from '../../protocol/errors.js'
import { param, repeatedParam, requiredParam, type RawParams } from '../../protocol/params.js'
import { coversScopes, formatScopes, parseScope, splitScopes } from '../../protocol/scopes.js'
import { formatResources, splitResources } from '../../resources/resources.js'
import { mintTokens } from '../../tokens/issue.js'
import type { Actor } from '../../tokens/types.js'
import { checkAccessToken, type ActiveAccessToken } from '../../tokens/verify.js'
import { tokenAudience } from './audience.js'
import type { GrantDeps } from './deps.js'

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
/** RFC 8693 §3: the one kind of token Gatehouse takes and gives in an exchange. */
export const ACCESS_TOKEN_TYPE_URI = 'urn:ietf:params:oauth:token-type:access_token'

/** RFC 8693 §2.2.1: no refresh token; the caller exchanges again while the subject token lives. */
export interface TokenExchangeResponse {
  token_type: 'Bearer'
  expires_in: number
  access_token: string
  issued_token_type: typeof ACCESS_TOKEN_TYPE_URI
  scope?: string
}

/** An exchanged token must live at least this long to be worth issuing. */
const MIN_LIFETIME_SECONDS = 1

function checkTokenType(params: RawParams, name: string): void {
  const type = requiredParam(params, name)
  if (type !== ACCESS_TOKEN_TYPE_URI) throw new InvalidRequest(`${name} must be ${ACCESS_TOKEN_TYPE_URI}: only access tokens Gatehouse issued are exchanged.`)
}

/** The actor's access token: one Gatehouse issued to the calling client itself, naming whom it acts as. */
async function actorOf(ctx: GrantDeps, client: Client, params: RawParams): Promise<Actor> {
  const token = param(params, 'actor_token')
  if (token === undefined) {
    if (param(params, 'actor_token_type') !== undefined) throw new InvalidRequest('actor_token_type goes with an actor_token.')
    return { sub: client.id }
  }
  checkTokenType(params, 'actor_token_type')
  const actor = await checkAccessToken(ctx, token)
  if (!actor.active) throw new InvalidGrant(`The actor_token is not an active access token (${actor.reason}).`)
  if (actor.row.clientId !== client.id) throw new InvalidGrant('The actor_token must be an access token issued to the client that exchanges.')
  return { sub: String(actor.row.userId) }
}

function actorChain(actor: Actor, subject: ActiveAccessToken): Actor {
  // RFC 8693 §4.1: the outermost act is the current actor; the subject's own act becomes the one inside it.
  return subject.row.act === null ? actor : { ...actor, act: JSON.parse(subject.row.act) as Actor }
}

/** RFC 6749 §3.3 as for a refresh: the scope may narrow, never widen; none asked is the subject token's. */
function narrowedScopes(subject: ActiveAccessToken, requestedScope: string | undefined): string[] {
  const held = splitScopes(subject.row.scopes)
  const requested = parseScope(requestedScope, held)
  if (requested.length === 0) return held
  if (held.length > 0 && !coversScopes(held, requested)) throw new InvalidScope("The requested scope exceeds the subject token's scope.")
  return requested
}

/**
 * RFC 8693: an allowed client trades an access token it was given (the
 * subject token) for one of its own that acts for the same user in the same
 * team, names the client (or the actor token's user) in `act`, may do no
 * more than the subject token, ends no later, and hangs from the subject's
 * grant, so revoking that grant ends it too.
 */
export async function tokenExchangeGrant(ctx: GrantDeps, client: Client, params: RawParams, address: string): Promise<TokenExchangeResponse> {
  if (!client.tokenExchange) throw new UnauthorizedClient('An operator has not allowed this client to exchange tokens.')
  const subjectToken = requiredParam(params, 'subject_token')
  checkTokenType(params, 'subject_token_type')
  const requestedType = param(params, 'requested_token_type')
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE_URI)
    throw new InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE_URI}, or left out.`)
  const subject = await checkAccessToken(ctx, subjectToken)
  if (!subject.active) throw new InvalidGrant(`The subject_token is not an active access token (${subject.reason}).`)
  const act = actorChain(await actorOf(ctx, client, params), subject)
  const scopes = narrowedScopes(subject, param(params, 'scope'))
  // RFC 8693 §2.1: `audience` names where the token will be used, as `resource` does; both narrow the subject's audience.
  const targets = [...repeatedParam(params, 'resource'), ...repeatedParam(params, 'audience')]
  const resources = await tokenAudience(ctx, splitResources(subject.row.resources), { resource: targets })
  const now = ctx.clock()
  const remainingSeconds = Math.floor((subject.row.expiresAt - now) / 1000)
  if (remainingSeconds < MIN_LIFETIME_SECONDS) throw new InvalidGrant('The subject_token is about to expire.')
  const { userId, teamId, grantId: parentGrantId } = subject.row
  const grantId = randomUUID()
  const minted = await mintTokens(ctx, { grantId, clientId: client.id, userId, teamId, scopes, resources, lifetimeSeconds: remainingSeconds, act })
  const issued = await ctx.db.kysely.transaction().execute(async (trx) => {
    if (!(await holdLiveGrant(trx, parentGrantId))) return false
    await insertGrant(trx, {
      id: grantId,
      clientId: client.id,
      userId,
      teamId,
      scopes: formatScopes(scopes),
      resources: formatResources(resources),
      createdAt: now,
      parentGrantId,
    })
    await insertAccessToken(trx, minted.rows.access)
    return true
  })
  if (!issued) throw new InvalidGrant('The subject_token is not an active access token (token revoked).')
  ctx.activity.record({
    action: 'token.exchanged',
    teamId,
    userId,
    clientId: client.id,
    detail: `for ${subject.row.clientId}, acting ${act.sub}`,
    address,
  })
  const { refresh_token: _none, id_token: _noIdToken, ...response } = minted.response
  return { ...response, issued_token_type: ACCESS_TOKEN_TYPE_URI }
}
