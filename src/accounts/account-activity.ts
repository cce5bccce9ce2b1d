import type { ActivityLog } from '../activity/recorder.js'
import type { ActivityAction } from '../activity/types.js'
import type { Db } from '../db/connection.js'
import { listMembershipsOfUser } from '../db/teams.js'

/** An event of the user's own account, shown with the user's first team's activity as logins are. */
export async function recordAccountEvent(
  deps: { db: Db; activity: ActivityLog },
  action: ActivityAction,
  userId: number,
  detail: string,
  address?: string,
): Promise<void> {
  const teamId = (await listMembershipsOfUser(deps.db.kysely, userId))[0]?.team.id ?? null
  deps.activity.record({ action, userId, teamId, detail, address: address ?? null })
}
