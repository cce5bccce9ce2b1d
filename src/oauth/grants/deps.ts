import type { ActivityLog } from '../../activity/recorder.js'
import type { Db } from '../../db/connection.js'
import type { IssuanceDeps } from '../../tokens/issue.js'

/** What a grant uses: the database, the activity log, and what issuing tokens takes (keys, issuer, lifetimes, clock). */
export interface GrantDeps extends IssuanceDeps {
  db: Db
  activity: ActivityLog
}
