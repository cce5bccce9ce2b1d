import type { FastifyRequest } from 'fastify'
import { keepForOneView } from '../../../accounts/portal-forms.js'
import { clientOfTeam, requireClientManager } from '../../../clients/access.js'
import type { Client } from '../../../clients/types.js'
import type { ActivityAction } from '../../../activity/types.js'
import type { AppContext } from '../../../context.js'
import { missingClient, orWhereItIs } from '../not-in-team.js'
import type { TeamSession } from '../session-guard.js'
import { clientPath } from './view.js'

/** A client of the active team, or the page that says where it is: another of the user's teams, deleted, or a plain 404. */
export function activeTeamClient(ctx: AppContext, session: TeamSession, id: string, returnTo = clientPath(id)): Promise<Client> {
  return orWhereItIs(clientOfTeam(ctx.db, id, session.activeTeam.id), 'client_not_found', () => missingClient(ctx, session, id, returnTo))
}

/** A client of the active team that the user may change, or the error page that says why not. */
export async function managedClient(ctx: AppContext, session: TeamSession, id: string, returnTo?: string): Promise<Client> {
  const client = await activeTeamClient(ctx, session, id, returnTo)
  requireClientManager(client, session.user, session.teams)
  return client
}

/** Changes to a client show in the team's activity log, with the app's name (never its secret). */
export function recordClientEvent(ctx: AppContext, request: FastifyRequest, session: TeamSession, client: Client, action: ActivityAction): void {
  ctx.activity.record({ action, teamId: client.teamId, userId: session.user.id, clientId: client.id, detail: client.name, address: request.ip })
}

/** The client's page, showing the secret once: it is kept for that one view, never put in the URL. */
export async function secretShownAt(ctx: AppContext, session: TeamSession, client: Client, secret: string): Promise<string> {
  const viewId = await keepForOneView(ctx.db, ctx.keys, session.id, client.id, secret, ctx.clock())
  return `${clientPath(client.id)}?shown=${viewId}`
}
