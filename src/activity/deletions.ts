import type { Db } from '../db/connection.js'
import { listDeletions, type DeletionEntry } from '../db/activities.js'

/*
 * What the log remembers of deleted clients and tokens and revoked apps: their names, and
 * that they were deleted rather than never there. Only the log of the teams
 * asked about is read, and for tokens only the user's own, so nothing is
 * learnt about another team's or another member's things.
 */

export type Deletion = DeletionEntry

function newestEach(entries: DeletionEntry[]): Map<string, Deletion> {
  const found = new Map<string, Deletion>()
  for (const entry of entries) if (!found.has(entry.subjectId)) found.set(entry.subjectId, entry)
  return found
}

export async function deletedClients(db: Db, teamIds: number[], clientIds: string[]): Promise<Map<string, Deletion>> {
  return newestEach(await listDeletions(db.kysely, { teamIds, action: 'client.deleted', clientIds }))
}

/** Apps whose access was revoked in these teams; the entry's name may carry "(own authorisation)", so the caller names the app. */
export async function revokedApps(db: Db, teamIds: number[], clientIds: string[]): Promise<Map<string, Deletion>> {
  return newestEach(await listDeletions(db.kysely, { teamIds, action: 'app.revoked', clientIds }))
}

export async function deletedTokens(db: Db, teamIds: number[], userId: number, personalAccessTokenIds: string[]): Promise<Map<string, Deletion>> {
  return newestEach(await listDeletions(db.kysely, { teamIds, action: 'personal_access_token.deleted', userId, personalAccessTokenIds }))
}
