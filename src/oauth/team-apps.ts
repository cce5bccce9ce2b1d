import type { Role } from '../accounts/types.js'
import type { ActivityLog } from '../activity/recorder.js'
import type { Db } from '../db/connection.js'
import { findClientById } from '../db/clients.js'
import { listTeamApps } from '../db/team-apps.js'
import { Refusal } from '../messages.js'
import { revokeHoldings } from '../tokens/holdings.js'
import type { TeamApp } from '../tokens/types.js'

/** The apps users of the team have authorised (the portal's Team apps page), one row per user. */
export function teamApps(db: Db, teamId: number): Promise<TeamApp[]> {
  return listTeamApps(db.kysely, teamId)
}

/** Who is revoking, and their role in the team the app is revoked from. */
export interface TeamAppRevoker {
  userId: number
  role: Role
}

/**
 * Members revoke what they authorised themselves; the team's owners revoke
 * any app in the team (OWASP ASVS V4.2.1: no acting on another user's records).
 */
export function mayRevokeTeamApp(authorisation: TeamApp, by: TeamAppRevoker): boolean {
  return by.role === 'owner' || authorisation.authorisedBy.userId === by.userId
}

/**
 * Ends the app's access to the team: every grant and token it holds there,
 * its pending codes and the recorded consents, so the next authorisation
 * asks again: the user goes through the authorisation flow
 * again. An owner ends it for every user of the team; a member, for
 * themselves. All in one transaction.
 */
export async function revokeTeamApp(
  db: Db,
  activity: ActivityLog,
  input: { clientId: string; teamId: number; by: TeamAppRevoker; address?: string },
  now: number,
): Promise<void> {
  const client = await findClientById(db.kysely, input.clientId)
  if (!client) throw new Refusal('client_not_found', 404)
  const authorisations = (await listTeamApps(db.kysely, input.teamId)).filter((a) => a.clientId === input.clientId)
  if (authorisations.length === 0) throw new Refusal('team_app_not_found', 404)
  if (!authorisations.some((a) => mayRevokeTeamApp(a, input.by))) throw new Refusal('team_app_forbidden', 403)
  const everyone = input.by.role === 'owner'
  await db.kysely
    .transaction()
    .execute((trx) =>
      revokeHoldings(
        trx,
        everyone ? { clientId: input.clientId, teamId: input.teamId } : { clientId: input.clientId, teamId: input.teamId, userId: input.by.userId },
        now,
      ),
    )
  activity.record({
    action: 'app.revoked',
    teamId: input.teamId,
    userId: input.by.userId,
    clientId: input.clientId,
    detail: everyone ? client.name : `${client.name} (own authorisation)`,
    address: input.address ?? null,
  })
}
