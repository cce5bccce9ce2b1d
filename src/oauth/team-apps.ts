import type { ActivityLog } from '../activity/recorder.js'
import type { Db } from '../db/connection.js'
import { deleteConsentsForClientInTeam } from '../db/consents.js'
import { listTeamApps } from '../db/team-apps.js'
import { listLiveGrantIds, revokeGrant } from '../db/tokens.js'
import { findClientById } from '../db/clients.js'
import { deletePendingAuthorizationCodes } from '../db/authorization-codes.js'
import { AppError } from '../messages.js'
import type { TeamApp } from './types.js'

/** The apps users of the team have authorised (seed 000: "Team apps" in Workflow Integrations). */
export function teamApps(db: Db, teamId: number): Promise<TeamApp[]> {
  return listTeamApps(db.kysely, teamId)
}

/**
 * Ends the app's access to the team: every grant and token it holds there,
 * and the recorded consents, so the next authorisation asks again (seed 000:
 * "the user must go through the authorisation flow again").
 */
export async function revokeTeamApp(db: Db, activity: ActivityLog, input: { clientId: string; teamId: number; byUserId: number; address?: string }, now: number): Promise<void> {
  const client = await findClientById(db.kysely, input.clientId)
  if (!client) throw new AppError('client_not_found', 404)
  await db.kysely.transaction().execute(async (trx) => {
    for (const grantId of await listLiveGrantIds(trx, input.clientId, input.teamId)) await revokeGrant(trx, grantId, now)
    await deleteConsentsForClientInTeam(trx, input.clientId, input.teamId)
    await deletePendingAuthorizationCodes(trx, input.clientId, input.teamId)
  })
  activity.record({ action: 'app.revoked', teamId: input.teamId, userId: input.byUserId, clientId: input.clientId, detail: client.name, address: input.address ?? null })
}
