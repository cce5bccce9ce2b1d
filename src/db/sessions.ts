import type { Executor } from './executor.js'

export interface SessionRow {
  userId: number
  activeTeamId: number | null
  expiresAt: number
  sid: string
  authenticatedAt: number
  lastActiveAt: number | null
  /** RFC 8176 methods of the login, space-separated; null: the password alone. */
  amr: string | null
}

/** The browser a session is used from, as it told us: its User-Agent and address. */
export interface SessionClientRow {
  userAgent: string | null
  address: string | null
}

/** What is left to say about a session that ended: who it was, and its public id. */
export interface EndedSession {
  sid: string
  userId: number
}

export interface NewSessionRow {
  idHash: string
  sid: string
  userId: number
  activeTeamId: number | null
  now: number
  expiresAt: number
  client: SessionClientRow
  amr: string
}

export async function insertSession(db: Executor, session: NewSessionRow): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id_hash: session.idHash,
      sid: session.sid,
      user_id: session.userId,
      active_team_id: session.activeTeamId,
      created_at: session.now,
      authenticated_at: session.now,
      expires_at: session.expiresAt,
      user_agent: session.client.userAgent,
      address: session.client.address,
      last_active_at: session.now,
      amr: session.amr,
    })
    .execute()
}

export async function findLiveSession(db: Executor, idHash: string, now: number): Promise<SessionRow | undefined> {
  const row = await db
    .selectFrom('sessions')
    .select(['user_id', 'active_team_id', 'expires_at', 'sid', 'authenticated_at', 'last_active_at', 'amr'])
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return (
    row && {
      userId: row.user_id,
      activeTeamId: row.active_team_id,
      expiresAt: row.expires_at,
      sid: row.sid,
      authenticatedAt: row.authenticated_at,
      lastActiveAt: row.last_active_at,
      amr: row.amr,
    }
  )
}

/**
 * Records that the session was used now, from `address`, unless that was
 * already recorded less than `resolutionMs` ago: at most one write per
 * session per period, however many requests it makes, and none when another
 * process recorded it first.
 */
export async function touchSession(db: Executor, idHash: string, now: number, address: string | null, resolutionMs: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_active_at: now, address })
    .where('id_hash', '=', idHash)
    .where((eb) => eb.or([eb('last_active_at', 'is', null), eb('last_active_at', '<=', now - resolutionMs)]))
    .execute()
}

export async function setSessionTeam(db: Executor, idHash: string, teamId: number): Promise<void> {
  await db.updateTable('sessions').set({ active_team_id: teamId }).where('id_hash', '=', idHash).execute()
}

/** A new login in a live session: a new secret id, a new login time and methods, the same public id. */
export async function renewSession(
  db: Executor,
  oldIdHash: string,
  newIdHash: string,
  now: number,
  expiresAt: number,
  client: SessionClientRow,
  amr: string,
): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ id_hash: newIdHash, authenticated_at: now, expires_at: expiresAt, user_agent: client.userAgent, address: client.address, last_active_at: now, amr })
    .where('id_hash', '=', oldIdHash)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function deleteSession(db: Executor, idHash: string): Promise<EndedSession | undefined> {
  const row = await db.deleteFrom('sessions').where('id_hash', '=', idHash).returning(['sid', 'user_id']).executeTakeFirst()
  return row && { sid: row.sid, userId: row.user_id }
}

export async function deleteSessionsOfUser(db: Executor, userId: number): Promise<EndedSession[]> {
  const rows = await db.deleteFrom('sessions').where('user_id', '=', userId).returning(['sid', 'user_id']).execute()
  return rows.map((row) => ({ sid: row.sid, userId: row.user_id }))
}

export async function recordSessionClient(db: Executor, sid: string, clientId: string, userId: number, now: number, expiresAt: number): Promise<void> {
  await db
    .insertInto('session_clients')
    .values({ sid, client_id: clientId, user_id: userId, created_at: now, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['sid', 'client_id']).doNothing())
    .execute()
}

export interface BackchannelTarget {
  sid: string
  userId: number
  clientId: string
  backchannelLogoutUri: string
}

/** Takes the record of which clients the sessions signed in to, returning those that asked to hear of the logout. */
export async function takeSessionClients(db: Executor, sids: string[]): Promise<BackchannelTarget[]> {
  if (sids.length === 0) return []
  const rows = await db
    .selectFrom('session_clients as s')
    .innerJoin('clients as c', 'c.id', 's.client_id')
    .select(['s.sid', 's.user_id', 's.client_id', 'c.backchannel_logout_uri'])
    .where('s.sid', 'in', sids)
    .where('c.backchannel_logout_uri', 'is not', null)
    .execute()
  await db.deleteFrom('session_clients').where('sid', 'in', sids).execute()
  return rows.map((row) => ({ sid: row.sid, userId: row.user_id, clientId: row.client_id, backchannelLogoutUri: row.backchannel_logout_uri! }))
}

/** A live session as its user sees it in the list of their sessions: never its secret id. */
export interface SessionListRow extends SessionClientRow {
  sid: string
  createdAt: number
  authenticatedAt: number
  /** Sessions from before this was recorded count as last used when the password was last entered. */
  lastActiveAt: number
  expiresAt: number
}

export async function listLiveSessionsOfUser(db: Executor, userId: number, now: number): Promise<SessionListRow[]> {
  const rows = await db
    .selectFrom('sessions')
    .select(['sid', 'created_at', 'authenticated_at', 'expires_at', 'user_agent', 'address', 'last_active_at'])
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .orderBy('authenticated_at', 'desc')
    .orderBy('sid')
    .execute()
  return rows.map((row) => ({
    sid: row.sid,
    createdAt: row.created_at,
    authenticatedAt: row.authenticated_at,
    lastActiveAt: Math.max(row.last_active_at ?? 0, row.authenticated_at),
    expiresAt: row.expires_at,
    userAgent: row.user_agent,
    address: row.address,
  }))
}

/** Ends one session of the user, named by its public id; undefined when it is not theirs or already over. */
export async function deleteSessionOfUser(db: Executor, userId: number, sid: string): Promise<EndedSession | undefined> {
  const row = await db.deleteFrom('sessions').where('user_id', '=', userId).where('sid', '=', sid).returning(['sid', 'user_id']).executeTakeFirst()
  return row && { sid: row.sid, userId: row.user_id }
}

/** Ends every session of the user but the one whose secret id hashes to `keepIdHash`. */
export async function deleteOtherSessionsOfUser(db: Executor, userId: number, keepIdHash: string): Promise<EndedSession[]> {
  const rows = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id_hash', '!=', keepIdHash).returning(['sid', 'user_id']).execute()
  return rows.map((row) => ({ sid: row.sid, userId: row.user_id }))
}

/** Sessions not yet expired or ended. */
export async function countLiveSessions(db: Executor, now: number): Promise<number> {
  const row = await db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
