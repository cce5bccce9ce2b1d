import type { ActivityLog } from '../../activity/recorder.js'
import type { Config } from '../../config.js'
import type { Db } from '../../db/connection.js'
import type { IssuanceDeps } from '../../tokens/issue.js'

/**
 * What a grant uses: the database, the activity log, what issuing tokens
 * takes (keys, issuer, lifetimes, clock), the ID token's lifetime, and the login throttle the
 * password grant shares with the login page.
 */
export interface GrantDeps extends IssuanceDeps {
  db: Db
  activity: ActivityLog
  config: IssuanceDeps['config'] & Pick<Config, 'idTokenTtlSeconds' | 'loginThrottle'>
}
