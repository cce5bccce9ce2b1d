import { hashSecret, hmac, randomSecret, safeEqual } from '../crypto/random.js'
import type { Db } from '../db/connection.js'
import {
  deleteOtherSessionsOfUser,
  deleteSession,
  deleteSessionOfUser,
  findLiveSession,
  insertSession,
  listLiveSessionsOfUser,
  renewSession,
  setSessionTeam,
  touchSession,
  type EndedSession,
  type SessionClientRow,
  type SessionListRow,
} from '../db/sessions.js'
import { findMembership, listMembershipsOfUser } from '../db/teams.js'
import { findUserById } from '../db/users.js'
import { Refusal } from '../messages.js'
import { formatAmr, parseAmr, PASSWORD_ONLY } from './assurance.js'
import type { Team, TeamMembership, User } from './types.js'

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000

/**
 * How precisely "last active" is kept. Pages are read on every request
 * anyway; writing on every one too would double the database work of a busy
 * portal for a time nobody needs to the second.
 */
export const LAST_ACTIVE_RESOLUTION_MS = 60 * 1000

/** A User-Agent longer than this is cut: enough for any real browser's, and no more of a stranger's choosing is stored. */
const USER_AGENT_MAX_LENGTH = 512

/** The browser a request came from, as it says: what the sessions page shows to tell sessions apart. */
export interface SessionClient {
  userAgent: string | undefined
  address: string
}

function clientRow(client: SessionClient | undefined): SessionClientRow {
  return { userAgent: client?.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) || null, address: client?.address ?? null }
}

export interface LoadedSession {
  user: User
  teams: TeamMembership[]
  activeTeam: Team | undefined
  /** The session's public id, the `sid` of the ID tokens issued in it. */
  sid: string
  /** When the user last signed in to this session (epoch ms): the ID token's `auth_time`. */
  authenticatedAt: number
  /** How they signed in (RFC 8176 methods): the ID token's `amr`. */
  amr: string[]
  /** When the session's use was last recorded; null for sessions from before this was kept. */
  lastActiveAt: number | null
  expiresAt: number
}

/**
 * Starts a session after a login. The id is new every time (so an id planted
 * before login is worthless) and only its hash is stored.
 */
export async function startSession(
  db: Db,
  user: User,
  now: number,
  client?: SessionClient,
  amr: readonly string[] = PASSWORD_ONLY,
): Promise<{ id: string; expiresAt: number }> {
  const id = randomSecret(32)
  const teams = await listMembershipsOfUser(db.kysely, user.id)
  const expiresAt = now + SESSION_TTL_MS
  await insertSession(db.kysely, {
    idHash: hashSecret(id),
    sid: randomSecret(16),
    userId: user.id,
    activeTeamId: teams[0]?.team.id ?? null,
    now,
    expiresAt,
    client: clientRow(client),
    amr: formatAmr(amr),
  })
  return { id, expiresAt }
}

/**
 * The same user logged in again (OpenID Connect `prompt=login`, `max_age`):
 * the session gets a new secret id and login time and keeps its public id,
 * so the apps it signed in to stay signed in. Undefined when it has ended.
 */
export async function renewLogin(
  db: Db,
  oldId: string,
  now: number,
  client: SessionClient,
  amr: readonly string[] = PASSWORD_ONLY,
): Promise<{ id: string; expiresAt: number } | undefined> {
  const id = randomSecret(32)
  const expiresAt = now + SESSION_TTL_MS
  return (await renewSession(db.kysely, hashSecret(oldId), hashSecret(id), now, expiresAt, clientRow(client), formatAmr(amr))) ? { id, expiresAt } : undefined
}

/** The session's user and active team, or nothing when the session is unknown, expired or its user is disabled. */
export async function loadSession(db: Db, id: string, now: number): Promise<LoadedSession | undefined> {
  const session = await findLiveSession(db.kysely, hashSecret(id), now)
  if (!session) return undefined
  const user = await findUserById(db.kysely, session.userId)
  if (!user || user.isDisabled) return undefined
  const teams = await listMembershipsOfUser(db.kysely, user.id)
  const activeTeam = teams.find((m) => m.team.id === session.activeTeamId)?.team ?? teams[0]?.team
  return {
    user,
    teams,
    activeTeam,
    sid: session.sid,
    authenticatedAt: session.authenticatedAt,
    amr: parseAmr(session.amr),
    lastActiveAt: session.lastActiveAt,
    expiresAt: session.expiresAt,
  }
}

/** Records that the session was used now from `address`: at most once per LAST_ACTIVE_RESOLUTION_MS. */
export async function noteSessionUse(db: Db, id: string, session: LoadedSession, now: number, address: string): Promise<void> {
  if (session.lastActiveAt !== null && now - session.lastActiveAt < LAST_ACTIVE_RESOLUTION_MS) return
  await touchSession(db.kysely, hashSecret(id), now, address, LAST_ACTIVE_RESOLUTION_MS)
}

export async function switchTeam(db: Db, sessionId: string, userId: number, teamId: number): Promise<Team> {
  const membership = await findMembership(db.kysely, teamId, userId)
  if (!membership) throw new Refusal('team_not_member', 403)
  await setSessionTeam(db.kysely, hashSecret(sessionId), teamId)
  return membership.team
}

/** Ends the session; what it was, for the apps that must hear of it (back-channel logout). */
export async function endSession(db: Db, id: string): Promise<EndedSession | undefined> {
  return deleteSession(db.kysely, hashSecret(id))
}

/** The user's live sessions, the most recent login first. */
export function signedInSessions(db: Db, userId: number, now: number): Promise<SessionListRow[]> {
  return listLiveSessionsOfUser(db.kysely, userId, now)
}

/** Ends one of the user's sessions (another device); undefined when none of theirs has that id. */
export function endSessionOfUser(db: Db, userId: number, sid: string): Promise<EndedSession | undefined> {
  return deleteSessionOfUser(db.kysely, userId, sid)
}

/** Ends every session of the user but the one with the secret id `currentId` ("sign out everywhere else"). */
export function endOtherSessions(db: Db, userId: number, currentId: string): Promise<EndedSession[]> {
  return deleteOtherSessionsOfUser(db.kysely, userId, hashSecret(currentId))
}

/** The CSRF token for forms of the session (or pre-login cookie) `bindTo`: an HMAC, so nothing is stored. */
export function csrfTokenFor(key: Buffer, bindTo: string): string {
  return hmac(key, `csrf:${bindTo}`)
}

export function isValidCsrfToken(key: Buffer, bindTo: string, token: unknown): boolean {
  return typeof token === 'string' && safeEqual(token, csrfTokenFor(key, bindTo))
}
