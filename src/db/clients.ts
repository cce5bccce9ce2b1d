import type { Selectable } from 'kysely'
import type { Client, StoredClientSecret } from '../clients/types.js'
import type { Kysely } from 'kysely'
import { compiledOnce } from './compiled.js'
import type { Executor } from './executor.js'
import type { Database } from './schema.js'
import type { ClientTable } from './schema.js'

function toClient(row: Selectable<ClientTable>): Client {
  return {
    id: row.id,
    name: row.name,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    isConfidential: row.is_confidential === 1,
    isFirstParty: row.is_first_party === 1,
    skipConsent: row.skip_consent === 1,
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    backchannelLogoutUri: row.backchannel_logout_uri,
    ownerUserId: row.owner_user_id,
    teamId: row.team_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  }
}

export interface NewClientRow {
  id: string
  name: string
  redirectUris: string[]
  isConfidential: boolean
  isFirstParty: boolean
  skipConsent?: boolean
  postLogoutRedirectUris?: string[]
  backchannelLogoutUri?: string | null
  ownerUserId: number
  teamId: number
  secret: StoredClientSecret | undefined
  now: number
}

export async function insertClient(db: Executor, client: NewClientRow): Promise<Client> {
  const row = await db
    .insertInto('clients')
    .values({
      id: client.id,
      name: client.name,
      redirect_uris: JSON.stringify(client.redirectUris),
      is_confidential: client.isConfidential ? 1 : 0,
      is_first_party: client.isFirstParty ? 1 : 0,
      skip_consent: client.skipConsent ? 1 : 0,
      post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris ?? []),
      backchannel_logout_uri: client.backchannelLogoutUri ?? null,
      secret_hash: client.secret?.hash ?? null,
      secret_encrypted: client.secret?.encrypted ?? null,
      owner_user_id: client.ownerUserId,
      team_id: client.teamId,
      created_at: client.now,
      updated_at: client.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toClient(row)
}

export async function findClientById(db: Executor, id: string): Promise<Client | undefined> {
  const row = await db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toClient(row)
}

const clientByIdQuery = compiledOnce((db, id) => db.selectFrom('clients').selectAll().where('id', '=', id))

/** With the stored secret: client authentication on every token, revocation and introspection request. */
export async function findClientWithSecret(db: Kysely<Database>, id: string): Promise<{ client: Client; secret: StoredClientSecret | undefined } | undefined> {
  const row = await clientByIdQuery(db, id)
  if (!row) return undefined
  const secret = row.secret_hash !== null && row.secret_encrypted !== null ? { hash: row.secret_hash, encrypted: row.secret_encrypted } : undefined
  return { client: toClient(row), secret }
}

export async function listClientsByOwner(db: Executor, ownerUserId: number): Promise<Client[]> {
  const rows = await db.selectFrom('clients').selectAll().where('owner_user_id', '=', ownerUserId).orderBy('created_at').orderBy('id').execute()
  return rows.map(toClient)
}

export async function listClientsByTeam(db: Executor, teamId: number): Promise<Client[]> {
  const rows = await db.selectFrom('clients').selectAll().where('team_id', '=', teamId).orderBy('created_at').orderBy('id').execute()
  return rows.map(toClient)
}

export async function updateClientDetails(db: Executor, id: string, name: string, redirectUris: string[], now: number): Promise<Client | undefined> {
  const row = await db
    .updateTable('clients')
    .set({ name, redirect_uris: JSON.stringify(redirectUris), updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
  return row && toClient(row)
}

/** The OpenID Connect settings of a client: logout URLs and, for first-party clients, the consent page. */
export async function updateClientOpenIdSettings(
  db: Executor,
  id: string,
  settings: { skipConsent: boolean; postLogoutRedirectUris: string[]; backchannelLogoutUri: string | null },
  now: number,
): Promise<Client | undefined> {
  const row = await db
    .updateTable('clients')
    .set({
      skip_consent: settings.skipConsent ? 1 : 0,
      post_logout_redirect_uris: JSON.stringify(settings.postLogoutRedirectUris),
      backchannel_logout_uri: settings.backchannelLogoutUri,
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
  return row && toClient(row)
}

export async function updateClientSecret(db: Executor, id: string, secret: StoredClientSecret, now: number): Promise<boolean> {
  const result = await db
    .updateTable('clients')
    .set({ secret_hash: secret.hash, secret_encrypted: secret.encrypted, updated_at: now })
    .where('id', '=', id)
    .where('is_confidential', '=', 1)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Deleting a client deletes its codes, grants and tokens with it (foreign keys cascade). */
export async function deleteClientById(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('clients').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}
