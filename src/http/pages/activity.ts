import type { FastifyInstance } from 'fastify'
import { membersOf } from '../../accounts/teams.js'
import { activityPage, PAGE_SIZE_DEFAULT, type ActivityPage } from '../../activity/list.js'
import { deletedClients, deletedTokens } from '../../activity/deletions.js'
import type { Activity, ActivityAction } from '../../activity/types.js'
import { usageSince, type UsageSummary } from '../../activity/usage.js'
import { clientsOfTeam } from '../../clients/access.js'
import { findClient } from '../../clients/clients.js'
import type { AppContext } from '../../context.js'
import { teamApps } from '../../oauth/team-apps.js'
import { personalAccessTokensOf } from '../../tokens/personal-access-tokens.js'
import { shownTime } from './format.js'
import { sendTeamPage } from './page.js'
import { teamPages, teamSessionOf } from './session-guard.js'

/** Every action gets words; a new action without them does not compile. */
export const ACTIONS: Record<ActivityAction, string> = {
  'api.request': 'API request',
  'token.issued': 'Access token issued',
  'token.refreshed': 'Access token refreshed',
  'token.exchanged': 'Access token exchanged for an app acting for the user',
  'token.revoked': 'Token revoked',
  'refresh_token.replayed': 'Used refresh token presented again',
  'authorization_code.replayed': 'Used authorisation code presented again',
  'device_code.replayed': 'Used device code presented again',
  'personal_access_token.created': 'Personal access token created',
  'personal_access_token.deleted': 'Personal access token deleted',
  'client.created': 'API client created',
  'client.updated': 'API client changed',
  'client.secret_revealed': 'Client secret viewed',
  'client.secret_regenerated': 'Client secret regenerated',
  'client.deleted': 'API client deleted',
  'client.skip_consent_enabled': 'Consent page turned off for the app',
  'client.skip_consent_disabled': 'Consent page turned back on for the app',
  'client.token_exchange_enabled': 'Token exchange allowed for the app',
  'client.token_exchange_disabled': 'Token exchange no longer allowed for the app',
  'client.redirect_uri_removed': 'Unsafe redirect URL removed',
  'app.authorised': 'App authorised',
  'app.revoked': 'App access revoked',
  'login.succeeded': 'Logged in',
  'login.failed': 'Failed login',
  'login.locked': 'Logins refused for a while',
  'mail.queued': 'Mail sent',
  'mail.failed': 'Mail could not be delivered',
  'password.reset_requested': 'Password reset asked for',
  'password.reset_completed': 'Password reset',
  'password.changed': 'Password changed',
  'email.change_requested': 'New e-mail address asked for',
  'email.change_completed': 'E-mail address changed',
  'email.verification_requested': 'Confirmation of the e-mail address asked for',
  'email.verified': 'E-mail address confirmed',
  'team.created': 'Team created',
  'member.invited': 'Invitation sent',
  'invitation.accepted': 'Invitation accepted',
  'invitation.cancelled': 'Invitation cancelled',
  'member.role_changed': 'Role changed',
  'member.removed': 'Member removed',
  'member.left': 'Member left the team',
  'account.signed_up': 'Signed up',
  'admin.request': 'Admin API request',
  'login.second_factor_failed': 'Wrong two-factor code',
  'factor.added': 'Two-factor sign-in method added',
  'factor.removed': 'Two-factor sign-in method removed',
  'factors.reset': 'Two-factor sign-in reset by an administrator',
  'recovery_codes.generated': 'New recovery codes made',
  'team.two_factor_changed': 'Two-factor sign-in requirement changed',
  'trusted_issuer.added': 'Identity provider trusted',
  'trusted_issuer.deleted': 'Identity provider no longer trusted',
  'webhook.created': 'Webhook endpoint added',
  'webhook.updated': 'Webhook endpoint changed',
  'webhook.deleted': 'Webhook endpoint deleted',
  'webhook.delivery_resent': 'Webhook delivery sent again',
}

interface ActivityQuery {
  user?: string
  source?: string
  cursor?: string
}

const querySchema = {
  type: 'object',
  properties: {
    user: { type: 'string', maxLength: 20 },
    source: { type: 'string', maxLength: 250 },
    cursor: { type: 'string', maxLength: 20 },
  },
} as const

interface Filter {
  userId?: number
  clientId?: string
  personalAccessTokenId?: string
}

/** `?user=<id>` and `?source=client:<id>` or `?source=token:<id>`; anything else filters nothing. */
function parseFilter(query: ActivityQuery): Filter {
  const filter: Filter = {}
  if (query.user !== undefined && /^\d{1,15}$/.test(query.user)) filter.userId = Number(query.user)
  const source = /^(client|token):(.+)$/.exec(query.source ?? '')
  if (source?.[1] === 'client') filter.clientId = source[2]
  if (source?.[1] === 'token') filter.personalAccessTokenId = source[2]
  return filter
}

function filterHref(filter: Filter, cursor?: string): string {
  const query = new URLSearchParams()
  if (filter.userId !== undefined) query.set('user', String(filter.userId))
  if (filter.clientId !== undefined) query.set('source', `client:${filter.clientId}`)
  if (filter.personalAccessTokenId !== undefined) query.set('source', `token:${filter.personalAccessTokenId}`)
  if (cursor !== undefined) query.set('cursor', cursor)
  const text = query.toString()
  return text === '' ? '/team/activity' : `/team/activity?${text}`
}

interface Names {
  users: Map<number, string>
  /** The team's clients and the apps it authorised, then any other app its log mentions. */
  clients: Map<string, string>
  /** Only the viewer's own tokens (deleted ones too): the names other members give theirs stay theirs. */
  tokens: Map<string, string>
  teamClientIds: string[]
}

function activityView(filter: Filter, cursor: string | undefined, page: ActivityPage, names: Names) {
  const entry = (item: Activity) => ({
    at: shownTime(item.createdAt, 'seconds'),
    action: Object.hasOwn(ACTIONS, item.action) ? ACTIONS[item.action as ActivityAction] : item.action,
    user: item.userId === null ? null : { name: names.users.get(item.userId) ?? `Former member #${item.userId}`, href: filterHref({ userId: item.userId }) },
    source:
      item.clientId !== null
        ? { kind: 'App', name: names.clients.get(item.clientId) ?? 'Deleted app', href: filterHref({ clientId: item.clientId }) }
        : item.personalAccessTokenId !== null
          ? {
              kind: 'Token',
              name: names.tokens.get(item.personalAccessTokenId) ?? 'Personal access token',
              href: filterHref({ personalAccessTokenId: item.personalAccessTokenId }),
            }
          : null,
    detail: item.detail,
    address: item.address,
  })

  const userOptions = [...names.users].map(([id, name]) => ({ value: String(id), name }))
  const appOptions = names.teamClientIds.map((id) => ({ value: `client:${id}`, name: names.clients.get(id) ?? id }))
  const tokenOptions = [...names.tokens].map(([id, name]) => ({ value: `token:${id}`, name }))
  // A filter picked from a row of the log (a former member, another team's app, another member's token) stays selected.
  if (filter.userId !== undefined && !names.users.has(filter.userId))
    userOptions.push({ value: String(filter.userId), name: `Former member #${filter.userId}` })
  if (filter.clientId !== undefined && !names.teamClientIds.includes(filter.clientId)) {
    appOptions.push({ value: `client:${filter.clientId}`, name: names.clients.get(filter.clientId) ?? 'Unknown app' })
  }
  if (filter.personalAccessTokenId !== undefined && !names.tokens.has(filter.personalAccessTokenId)) {
    tokenOptions.push({ value: `token:${filter.personalAccessTokenId}`, name: 'Personal access token' })
  }

  return {
    entries: page.items.map(entry),
    userOptions,
    appOptions,
    tokenOptions,
    selectedUser: filter.userId === undefined ? '' : String(filter.userId),
    selectedSource:
      filter.clientId !== undefined ? `client:${filter.clientId}` : filter.personalAccessTokenId !== undefined ? `token:${filter.personalAccessTokenId}` : '',
    filtered: Object.keys(filter).length > 0,
    olderHref: page.nextCursor === null ? null : filterHref(filter, page.nextCursor),
    newestHref: cursor === undefined ? null : filterHref(filter),
  }
}

async function namesFor(ctx: AppContext, teamId: number, viewerId: number, page: ActivityPage, usage: UsageSummary[]): Promise<Names> {
  const [members, clients, apps, tokens] = await Promise.all([
    membersOf(ctx.db, teamId),
    clientsOfTeam(ctx.db, teamId),
    teamApps(ctx.db, teamId),
    personalAccessTokensOf(ctx.db, viewerId, teamId),
  ])
  const clientNames = new Map<string, string>([
    ...clients.map((c): [string, string] => [c.id, c.name]),
    ...apps.map((a): [string, string] => [a.clientId, a.name]),
  ])
  const teamClientIds = [...clientNames.keys()]
  // The log outlives what it mentions; an app that is gone is named so by the page. Only
  // apps this team's log mentions are looked up, so a Client ID typed into the address reveals nothing.
  const mentioned = [...page.items, ...usage].flatMap((item) => (item.clientId !== null && !clientNames.has(item.clientId) ? [item.clientId] : []))
  const gone: string[] = []
  for (const id of new Set(mentioned)) {
    const client = await findClient(ctx.db, id)
    if (client) clientNames.set(id, client.name)
    else gone.push(id)
  }
  for (const [id, deletion] of await deletedClients(ctx.db, [teamId], gone)) if (deletion.name !== null) clientNames.set(id, `${deletion.name}, deleted`)
  const tokenNames = new Map(tokens.map((t) => [t.id, t.name]))
  const mentionedTokens = [...page.items, ...usage].flatMap((item) =>
    item.personalAccessTokenId !== null && !tokenNames.has(item.personalAccessTokenId) ? [item.personalAccessTokenId] : [],
  )
  for (const [id, deletion] of await deletedTokens(ctx.db, [teamId], viewerId, [...new Set(mentionedTokens)])) {
    if (deletion.name !== null) tokenNames.set(id, `${deletion.name}, deleted`)
  }
  return {
    users: new Map(members.map((m) => [m.user.id, m.user.name])),
    clients: clientNames,
    tokens: tokenNames,
    teamClientIds,
  }
}

/** The usage section covers this much time, newest first. */
const USAGE_WINDOW_MS = 24 * 60 * 60 * 1000
const USAGE_ROWS = 20

function usageView(usage: UsageSummary[], names: Names) {
  return usage.map((u) => ({
    user: { name: names.users.get(u.userId) ?? `Former member #${u.userId}`, href: filterHref({ userId: u.userId }) },
    source:
      u.clientId !== null
        ? { kind: 'App', name: names.clients.get(u.clientId) ?? 'Deleted app', href: filterHref({ clientId: u.clientId }) }
        : {
            kind: 'Token',
            name: names.tokens.get(u.personalAccessTokenId ?? '') ?? 'Personal access token',
            href: filterHref({ personalAccessTokenId: u.personalAccessTokenId ?? '' }),
          },
    calls: u.calls,
    lastAt: shownTime(u.lastAt, 'seconds'),
    lastCall: `${u.lastPath} ${u.lastStatus}`,
  }))
}

export function activityRoutes(app: FastifyInstance, ctx: AppContext): void {
  teamPages(app, ctx, (pages) => {
    pages.get<{ Querystring: ActivityQuery }>('/team/activity', { schema: { querystring: querySchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const filter = parseFilter(request.query)
      const page = await activityPage(ctx.db, { teamId: session.activeTeam.id, ...filter }, request.query.cursor, PAGE_SIZE_DEFAULT)
      const usage = await usageSince(ctx.db, { teamId: session.activeTeam.id, ...filter, since: ctx.clock() - USAGE_WINDOW_MS, limit: USAGE_ROWS })
      const names = await namesFor(ctx, session.activeTeam.id, session.user.id, page, usage)
      return sendTeamPage(ctx, request, reply, 'activity', 'Activity', {
        ...activityView(filter, request.query.cursor, page, names),
        usage: usageView(usage, names),
      })
    })
  })
}
