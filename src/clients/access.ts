import type { TeamMembership, User } from '../accounts/types.js'
import type { Db } from '../db/connection.js'
import { listClientsByTeam } from '../db/clients.js'
import { Refusal } from '../messages.js'
import { findClient } from './clients.js'
import type { Client } from './types.js'

export function clientsOfTeam(db: Db, teamId: number): Promise<Client[]> {
  return listClientsByTeam(db.kysely, teamId)
}

/**
 * A client of the team, or a 404 for one of any other team: a member must not
 * learn that another team's Client ID exists.
 */
export async function clientOfTeam(db: Db, clientId: string, teamId: number): Promise<Client> {
  const client = await findClient(db, clientId)
  if (!client || client.teamId !== teamId) throw new Refusal('client_not_found', 404)
  return client
}

/** The secret and the settings of a client are for the person who registered it and the owners of its team. */
export function canManageClient(client: Client, user: User, memberships: TeamMembership[]): boolean {
  if (client.ownerUserId === user.id) return true
  return memberships.some((m) => m.team.id === client.teamId && m.role === 'owner')
}

export function requireClientManager(client: Client, user: User, memberships: TeamMembership[]): void {
  if (!canManageClient(client, user, memberships)) throw new Refusal('client_forbidden', 403)
}
