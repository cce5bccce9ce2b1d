import type { User } from '../accounts/types.js'
import type { DeviceAuthorization } from '../oauth/device/types.js'
import type { HolderStanding, HoldingsOf } from '../tokens/types.js'
import type { Executor } from './executor.js'
import type { DeviceAuthorizationTable } from './schema.js'
import { JOINED_USER_COLUMNS, joinedUser } from './users.js'

export async function insertDeviceAuthorization(
  db: Executor,
  row: Omit<DeviceAuthorizationTable, 'status' | 'last_polled_at' | 'user_id' | 'team_id' | 'auth_time' | 'amr' | 'decided_at' | 'consumed_at'>,
): Promise<void> {
  await db
    .insertInto('device_authorizations')
    .values({ ...row, status: 'pending', last_polled_at: null, user_id: null, team_id: null, auth_time: null, amr: null, decided_at: null, consumed_at: null })
    .execute()
}

/** A request still waiting for the user's decision, by the hash of its user code. */
export async function findUndecidedDeviceAuthorization(
  db: Executor,
  userCodeHash: string,
  now: number,
): Promise<{ clientId: string; scopes: string; resources: string; expiresAt: number } | undefined> {
  const row = await db
    .selectFrom('device_authorizations')
    .select(['client_id', 'scopes', 'resources', 'expires_at'])
    .where('user_code_hash', '=', userCodeHash)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return row && { clientId: row.client_id, scopes: row.scopes, resources: row.resources, expiresAt: row.expires_at }
}

export type DeviceDecision = { approved: true; userId: number; teamId: number; authTime: number; amr: string | null } | { approved: false }

/** Records the decision on a request still waiting for one; false when it was decided already or expired. */
export async function decideDeviceAuthorization(db: Executor, userCodeHash: string, decision: DeviceDecision, now: number): Promise<boolean> {
  const decided = decision.approved
    ? { status: 'approved' as const, user_id: decision.userId, team_id: decision.teamId, auth_time: decision.authTime, amr: decision.amr, decided_at: now }
    : { status: 'denied' as const, decided_at: now }
  const result = await db
    .updateTable('device_authorizations')
    .set(decided)
    .where('user_code_hash', '=', userCodeHash)
    .where('status', '=', 'pending')
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** A request with the user who approved it and that user's standing in its team, in one query: the token endpoint's device code path. */
export async function findDeviceAuthorizationForPoll(
  db: Executor,
  deviceCodeHash: string,
): Promise<{ authorization: DeviceAuthorization; holder: { user: User; standing: HolderStanding } | undefined } | undefined> {
  const row = await db
    .selectFrom('device_authorizations as d')
    .leftJoin('users as u', 'u.id', 'd.user_id')
    .leftJoin('memberships as m', (join) => join.onRef('m.user_id', '=', 'd.user_id').onRef('m.team_id', '=', 'd.team_id'))
    .selectAll('d')
    .select([...JOINED_USER_COLUMNS, 'm.role'])
    .where('d.device_code_hash', '=', deviceCodeHash)
    .executeTakeFirst()
  if (!row) return undefined
  const authorization: DeviceAuthorization = {
    deviceCodeHash: row.device_code_hash,
    clientId: row.client_id,
    scopes: row.scopes,
    resources: row.resources,
    status: row.status,
    userId: row.user_id,
    teamId: row.team_id,
    grantId: row.grant_id,
    authTime: row.auth_time,
    amr: row.amr,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  }
  if (row.user_id === null || row.user_email === null) return { authorization, holder: undefined }
  const user = joinedUser(row as Parameters<typeof joinedUser>[0])
  return { authorization, holder: { user, standing: { userDisabled: user.isDisabled, isMember: row.role !== null } } }
}

/**
 * RFC 8628 §3.5: takes a poll that waited its interval, in one statement so
 * that polls sent at once cannot both pass; false when it came too soon.
 */
export async function takePoll(db: Executor, deviceCodeHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('device_authorizations')
    .set({ last_polled_at: now })
    .where('device_code_hash', '=', deviceCodeHash)
    .where((eb) => eb.or([eb('last_polled_at', 'is', null), eb(eb('last_polled_at', '+', eb(eb.ref('interval_seconds'), '*', 1000)), '<=', now)]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** RFC 8628 §3.5: slow_down, "the interval MUST be increased by 5 seconds for this and all subsequent requests". */
export async function slowDown(db: Executor, deviceCodeHash: string, now: number): Promise<number> {
  const row = await db
    .updateTable('device_authorizations')
    .set((eb) => ({ interval_seconds: eb('interval_seconds', '+', 5), last_polled_at: now }))
    .where('device_code_hash', '=', deviceCodeHash)
    .returning('interval_seconds')
    .executeTakeFirstOrThrow()
  return row.interval_seconds
}

/** Removes approvals not yet redeemed, so none can turn into tokens after a revocation. */
export async function deleteUnredeemedDeviceAuthorizations(db: Executor, of: HoldingsOf): Promise<void> {
  const f: { clientId?: string; userId?: number; teamId?: number } = of
  let query = db.deleteFrom('device_authorizations').where('consumed_at', 'is', null)
  if (f.clientId !== undefined) query = query.where('client_id', '=', f.clientId)
  if (f.userId !== undefined) query = query.where('user_id', '=', f.userId)
  if (f.teamId !== undefined) query = query.where('team_id', '=', f.teamId)
  await query.execute()
}
