import type { Team } from '../../accounts/types.js'
import { deletedClients, deletedTokens, revokedApps } from '../../activity/deletions.js'
import { findClient } from '../../clients/clients.js'
import type { AppContext } from '../../context.js'
import { Refusal, ELSEWHERE, THINGS, type Thing } from '../../messages.js'
import { teamApps } from '../../oauth/team-apps.js'
import { personalAccessTokensOf } from '../../tokens/personal-access-tokens.js'
import { shownTime } from './format.js'
import type { TeamSession } from './session-guard.js'

/*
 * An address names a client, token or app that is not in the active team.
 * Someone who belongs to the team it is in is told so and offered the
 * switch; something deleted in one of the user's teams, or an app revoked in
 * the active team (a second tab, the back button), is said to be so. Anyone else gets the same 404 as for
 * an id that never existed: only the user's own teams are looked at, and for
 * tokens only the user's own, so no one learns what other teams hold.
 */

export class InAnotherTeam extends Refusal {
  constructor(
    readonly thing: Thing,
    readonly thingName: string,
    readonly team: Team,
    /** Where the switch leads: the page of the thing, in its team. */
    readonly returnTo: string,
  ) {
    super('in_another_team', 409)
  }
}

export class AlreadyDeleted extends Refusal {
  constructor(
    readonly thing: Thing,
    readonly thingName: string | null,
    readonly at: Date,
  ) {
    super('already_deleted', 410)
  }
}

function otherTeams(session: TeamSession): Team[] {
  return session.teams.map((m) => m.team).filter((team) => team.id !== session.activeTeam.id)
}

function teamIds(session: TeamSession): number[] {
  return session.teams.map((m) => m.team.id)
}

/** The domain's answer, or when it refuses with `notFound`, the page that says where the thing is. */
export async function orWhereItIs<T>(answer: Promise<T>, notFound: string, whereItIs: () => Promise<never>): Promise<T> {
  try {
    return await answer
  } catch (err) {
    if (err instanceof Refusal && err.code === notFound) return whereItIs()
    throw err
  }
}

/** Says where a client missing from the active team is; always throws. */
export async function missingClient(ctx: AppContext, session: TeamSession, id: string, returnTo: string): Promise<never> {
  const client = await findClient(ctx.db, id)
  if (client) {
    const team = otherTeams(session).find((t) => t.id === client.teamId)
    if (team) throw new InAnotherTeam('client', client.name, team, returnTo)
    throw new Refusal('client_not_found', 404)
  }
  // The deletion may have been logged a moment ago and still be buffered.
  await ctx.activity.flush()
  const deletion = (await deletedClients(ctx.db, teamIds(session), [id])).get(id)
  if (deletion) throw new AlreadyDeleted('client', deletion.name, deletion.at)
  throw new Refusal('client_not_found', 404)
}

/** Says where one of the user's tokens missing from the active team is; always throws. */
export async function missingToken(ctx: AppContext, session: TeamSession, id: string, returnTo: string): Promise<never> {
  for (const team of otherTeams(session)) {
    const token = (await personalAccessTokensOf(ctx.db, session.user.id, team.id)).find((t) => t.id === id)
    if (token) throw new InAnotherTeam('token', token.name, team, returnTo)
  }
  await ctx.activity.flush()
  const deletion = (await deletedTokens(ctx.db, teamIds(session), session.user.id, [id])).get(id)
  if (deletion) throw new AlreadyDeleted('token', deletion.name, deletion.at)
  throw new Refusal('token_not_found', 404)
}

/** Says where an app no one in the active team authorised is, or that its access was revoked; always throws. */
export async function missingApp(ctx: AppContext, session: TeamSession, clientId: string, returnTo: string): Promise<never> {
  for (const team of otherTeams(session)) {
    const app = (await teamApps(ctx.db, team.id)).find((a) => a.clientId === clientId)
    if (app) throw new InAnotherTeam('app', app.name, team, returnTo)
  }
  await ctx.activity.flush()
  const revocation = (await revokedApps(ctx.db, [session.activeTeam.id], [clientId])).get(clientId)
  if (revocation) throw new AlreadyDeleted('app', (await findClient(ctx.db, clientId))?.name ?? null, revocation.at)
  throw new Refusal('team_app_not_found', 404)
}

/** The page for one of these errors: its template and what it shows. */
export function elsewherePage(error: Refusal): { template: string; data: Record<string, unknown> } | undefined {
  if (error instanceof InAnotherTeam) {
    const names = { thing: THINGS[error.thing].one, name: error.thingName, team: error.team.name }
    return {
      template: 'elsewhere',
      data: {
        title: ELSEWHERE.title,
        message: ELSEWHERE.message,
        switchLabel: ELSEWHERE.switchLabel,
        names,
        teamId: error.team.id,
        returnTo: error.returnTo,
        list: THINGS[error.thing],
      },
    }
  }
  if (error instanceof AlreadyDeleted) {
    const at = shownTime(error.at, 'seconds')
    return {
      template: 'already-deleted',
      data: {
        title: ELSEWHERE.deletedTitle[THINGS[error.thing].gone],
        message: error.thingName === null ? ELSEWHERE.deletedUnnamed : ELSEWHERE.deletedMessage,
        names: { thing: THINGS[error.thing].one, name: error.thingName ?? '', at: at.text, gone: THINGS[error.thing].gone },
        list: THINGS[error.thing],
      },
    }
  }
  return undefined
}
