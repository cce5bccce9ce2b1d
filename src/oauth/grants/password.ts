import { randomUUID } from 'node:crypto'
import { authenticate, LoginThrottled } from '../../accounts/login.js'
import { countConfirmedFactors } from '../../db/factors.js'
import type { Client } from '../../clients/types.js'
import { findMembership, listMembershipsOfUser } from '../../db/teams.js'
import { insertGrant } from '../../db/tokens.js'
import { insertImpliedConsentIfAbsent } from '../../db/consents.js'
import { Refusal } from '../../messages.js'
import { mintTokens, type TokenResponse } from '../../tokens/issue.js'
import { InvalidGrant, InvalidRequest, TooManyRequests, UnauthorizedClient } from '../../protocol/errors.js'
import type { GrantDeps } from './deps.js'
import { param, requiredParam, type RawParams } from '../../protocol/params.js'
import { formatScopes, parseScope } from '../../protocol/scopes.js'

/**
 * RFC 6749 §4.3: a first-party client exchanges the user's e-mail
 * and password for tokens. Attempts count against the login throttle.
 * `team_id` picks the team; without it, the user's first team.
 */
export async function passwordGrant(ctx: GrantDeps, client: Client, params: RawParams, address: string): Promise<TokenResponse> {
  if (!client.isFirstParty) throw new UnauthorizedClient('The password grant is only for first-party clients.')
  const username = requiredParam(params, 'username')
  const password = requiredParam(params, 'password')
  const scopes = parseScope(param(params, 'scope'))
  const teamParam = param(params, 'team_id')
  const now = ctx.clock()

  let user
  try {
    user = await authenticate(ctx.db, ctx.activity, username, password, address, now, ctx.config.loginThrottle)
  } catch (err) {
    // RFC 6585 §4: a throttled attempt is no wrong password; 429 with Retry-After, as on the login page.
    if (err instanceof LoginThrottled) throw new TooManyRequests(err.message, err.retryAfter)
    if (!(err instanceof Refusal)) throw err
    throw new InvalidGrant('The e-mail address or password is incorrect.')
  }
  // A password alone never stands in for a second factor; only the browser can ask for it.
  if ((await countConfirmedFactors(ctx.db.kysely, user.id)) > 0)
    throw new InvalidGrant('This user signs in with two-factor sign-in, which the password grant cannot ask for: the app must use the authorization code flow.')

  let teamId: number | undefined
  if (teamParam !== undefined) {
    const id = Number(teamParam)
    if (!Number.isSafeInteger(id)) throw new InvalidRequest('team_id must be a team id.')
    teamId = (await findMembership(ctx.db.kysely, id, user.id))?.team.id
    if (teamId === undefined) throw new InvalidGrant('The user is not a member of that team.')
  } else {
    teamId = (await listMembershipsOfUser(ctx.db.kysely, user.id))[0]?.team.id
    if (teamId === undefined) throw new InvalidGrant('The user is not a member of any team.')
  }

  const grantId = randomUUID()
  const minted = await mintTokens(ctx, { grantId, clientId: client.id, userId: user.id, teamId, scopes })
  await ctx.db.kysely.transaction().execute(async (trx) => {
    await insertGrant(trx, { id: grantId, clientId: client.id, userId: user.id, teamId, scopes: formatScopes(scopes), createdAt: now })
    // Recorded so the app shows on Team apps and can be revoked there, but as implied: the user
    // never saw the consent page, so a later sign-in in the browser still shows it (unless the
    // operator marked the client to skip it).
    await insertImpliedConsentIfAbsent(trx, user.id, client.id, teamId, formatScopes(scopes), now)
    await minted.persist(trx)
  })
  ctx.activity.record({ action: 'token.issued', teamId, userId: user.id, clientId: client.id, detail: 'password grant', address })
  return minted.response
}
