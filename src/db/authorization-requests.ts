import type { Executor } from './executor.js'

export interface PendingAuthorizationRow {
  clientId: string
  teamId: number
  parameters: Record<string, string | string[]>
}

export async function insertAuthorizationRequest(
  db: Executor,
  row: {
    idHash: string
    sessionIdHash: string
    clientId: string
    teamId: number
    parameters: Record<string, string | string[]>
    createdAt: number
    expiresAt: number
  },
): Promise<void> {
  await db
    .insertInto('authorization_requests')
    .values({
      id_hash: row.idHash,
      session_id_hash: row.sessionIdHash,
      client_id: row.clientId,
      team_id: row.teamId,
      parameters: JSON.stringify(row.parameters),
      created_at: row.createdAt,
      expires_at: row.expiresAt,
      consumed_at: null,
    })
    .execute()
}

/** A request still waiting for the decision of the session that was shown it. */
export async function findPendingAuthorizationRequest(
  db: Executor,
  idHash: string,
  sessionIdHash: string,
  now: number,
): Promise<PendingAuthorizationRow | undefined> {
  const row = await db
    .selectFrom('authorization_requests')
    .select(['client_id', 'team_id', 'parameters'])
    .where('id_hash', '=', idHash)
    .where('session_id_hash', '=', sessionIdHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return row && { clientId: row.client_id, teamId: Number(row.team_id), parameters: JSON.parse(row.parameters) as Record<string, string | string[]> }
}
