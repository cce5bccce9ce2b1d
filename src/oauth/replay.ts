import type { ActivityLog } from '../activity/recorder.js'
import type { Db } from '../db/connection.js'
import { revokeGrants } from '../db/tokens.js'
import { InvalidGrant } from '../protocol/errors.js'
import { familiesRevoked, replaysDetected } from '../observability/metrics.js'

export interface ReplayDeps {
  db: Db
  activity: ActivityLog
}

export interface Replay {
  /** The grant secrets a replay ends the family of. */
  kind: keyof typeof RECORDED
  grantId: string
  clientId: string
  userId: number
  teamId: number
  address: string
}

const RECORDED = {
  authorization_code: { action: 'authorization_code.replayed', detail: 'tokens from this code revoked' },
  refresh_token: { action: 'refresh_token.replayed', detail: 'every token of this grant revoked' },
  device_code: { action: 'device_code.replayed', detail: 'tokens from this device code revoked' },
} as const

/**
 * The one answer to a code or refresh token presented after it was used: it
 * has leaked, so the whole family it belongs to ends, in one transaction, and
 * the event is recorded (RFC 6749 §4.1.2 for codes, device codes alike, RFC 9700 §4.14.2 for
 * refresh tokens). Returns the error for the caller to throw.
 */
export async function answerReplay(deps: ReplayDeps, replay: Replay, description: string, now: number): Promise<InvalidGrant> {
  await deps.db.kysely.transaction().execute((trx) => revokeGrants(trx, { grantId: replay.grantId }, now))
  replaysDetected[replay.kind].inc()
  familiesRevoked.replay.inc()
  const recorded = RECORDED[replay.kind]
  deps.activity.record({
    action: recorded.action,
    teamId: replay.teamId,
    userId: replay.userId,
    clientId: replay.clientId,
    detail: recorded.detail,
    address: replay.address,
  })
  return new InvalidGrant(description)
}
