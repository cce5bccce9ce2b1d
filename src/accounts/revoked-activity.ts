import type { Transaction } from 'kysely'
import type { ActivityEvent } from '../activity/types.js'
import { listPersonalAccessTokens } from '../db/personal-access-tokens.js'
import type { Database } from '../db/schema.js'
import { listTeamApps } from '../db/team-apps.js'

/**
 * The activity entries for what a user is about to lose in these teams: an
 * `app.revoked` for each app they authorised and a
 * `personal_access_token.deleted` for each of their tokens, as the portal
 * writes when the user revokes or deletes one, so a team's log shows why
 * access ended (OWASP Logging Cheat Sheet: log changes to access). Read in
 * the transaction that revokes them, before it does. No address: the
 * change was not made over HTTP.
 */
export async function revokedActivity(trx: Transaction<Database>, userId: number, teamIds: number[], why: string): Promise<ActivityEvent[]> {
  const events: ActivityEvent[] = []
  for (const teamId of teamIds) {
    for (const app of await listTeamApps(trx, teamId)) {
      if (app.authorisedBy.userId !== userId) continue
      events.push({ action: 'app.revoked', teamId, userId, clientId: app.clientId, detail: `${app.name} (${why})`, address: null })
    }
    for (const token of await listPersonalAccessTokens(trx, userId, teamId)) {
      events.push({ action: 'personal_access_token.deleted', teamId, userId, personalAccessTokenId: token.id, detail: token.name, address: null })
    }
  }
  return events
}
