import type { Selectable } from 'kysely'
import type { AssertionMethod, Client, ClientKind, DeclaredUse, JsonWebKeySet, StoredClientSecret } from '../clients/types.js'
import { DEFAULT_ID_TOKEN_ALGORITHM, isSigningAlgorithm, type SigningAlgorithm } from '../keys/algorithms.js'
import type { Kysely } from 'kysely'
import { compiledOnce } from './compiled.js'
import type { Executor } from './executor.js'
import { announceRevoked } from './revocations.js'
import type { Database } from './schema.js'
import type { ClientTable } from './schema.js'
import type { Counter } from './throttle-counters.js'

/** The grant types and scope in a self-registered client's metadata; RFC 7591 §2: grant_types defaults to authorization_code. */
function declaredUse(metadata: string): DeclaredUse {
  const { grant_types: grantTypes, scope } = JSON.parse(metadata) as { grant_types?: string[]; scope?: string }
  const scopes = scope?.split(' ').filter((s) => s !== '')
  return { grantTypes: grantTypes ?? ['authorization_code'], scopes: scopes?.length ? scopes : undefined }
}

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
    idTokenSignedResponseAlg: isSigningAlgorithm(row.id_token_signed_response_alg) ? row.id_token_signed_response_alg : DEFAULT_ID_TOKEN_ALGORITHM,
    ownerUserId: row.owner_user_id,
    teamId: row.team_id,
    kind: row.kind as ClientKind,
    declared: row.metadata === null ? undefined : declaredUse(row.metadata),
    serviceAccountId: row.service_user_id === null ? null : Number(row.service_user_id),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method === null ? null : (row.token_endpoint_auth_method as AssertionMethod),
    jwks: row.jwks === null ? null : (JSON.parse(row.jwks) as JsonWebKeySet),
    jwksUri: row.jwks_uri,
    tokenExchange: row.token_exchange === 1,
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
  idTokenSignedResponseAlg?: SigningAlgorithm
  ownerUserId: number | null
  teamId: number | null
  secret: StoredClientSecret | undefined
  now: number
  /** A service client's service account. */
  serviceAccountId?: number
  tokenEndpointAuthMethod?: AssertionMethod | null
  jwks?: JsonWebKeySet | null
  jwksUri?: string | null
  tokenExchange?: boolean
  /** Left out for clients a person registers. */
  selfRegistered?: { kind: Exclude<ClientKind, 'registered'>; metadata: string; registrationTokenHash: string | null; metadataExpiresAt: number | null }
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
      id_token_signed_response_alg: client.idTokenSignedResponseAlg ?? DEFAULT_ID_TOKEN_ALGORITHM,
      secret_hash: client.secret?.hash ?? null,
      secret_encrypted: client.secret?.encrypted ?? null,
      owner_user_id: client.ownerUserId,
      team_id: client.teamId,
      created_at: client.now,
      updated_at: client.now,
      service_user_id: client.serviceAccountId ?? null,
      token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? null,
      jwks: client.jwks ? JSON.stringify(client.jwks) : null,
      jwks_uri: client.jwksUri ?? null,
      token_exchange: client.tokenExchange ? 1 : 0,
      ...(client.selfRegistered && {
        kind: client.selfRegistered.kind,
        metadata: client.selfRegistered.metadata,
        registration_token_hash: client.selfRegistered.registrationTokenHash,
        metadata_expires_at: client.selfRegistered.metadataExpiresAt,
      }),
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toClient(row)
}

export async function findClientById(db: Executor, id: string): Promise<Client | undefined> {
  const row = await db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toClient(row)
}

const clientByIdQuery = compiledOnce((db, id: string) => db.selectFrom('clients').selectAll().where('id', '=', id))

/** With the stored secret: client authentication on every token, revocation and introspection request. */
export async function findClientWithSecret(db: Kysely<Database>, id: string): Promise<{ client: Client; secret: StoredClientSecret | undefined } | undefined> {
  const row = (await clientByIdQuery(db, id)).rows[0]
  if (!row) return undefined
  const secret = row.secret_hash !== null && row.secret_encrypted !== null ? { hash: row.secret_hash, encrypted: row.secret_encrypted } : undefined
  return { client: toClient(row), secret }
}

const clientForAuthenticationQuery = compiledOnce((db, id: string, throttleKey: string, now: number) =>
  db
    .selectFrom('clients as c')
    .leftJoin('throttle_counters as t', (join) => join.on('t.key', '=', throttleKey).on('t.expires_at', '>', now))
    .selectAll('c')
    .select(['t.attempts as throttle_attempts', 't.window_started_at as throttle_window_started_at'])
    .where('c.id', '=', id),
)

/**
 * The client with its stored secret and the count of failed attempts under
 * `throttleKey`, in one query: the first of a token request's few round trips.
 */
export async function findClientForAuthentication(
  db: Kysely<Database>,
  id: string,
  throttleKey: string,
  now: number,
): Promise<{ client: Client; secret: StoredClientSecret | undefined; failures: Counter } | undefined> {
  const row = (await clientForAuthenticationQuery(db, id, throttleKey, now)).rows[0]
  if (!row) return undefined
  const secret = row.secret_hash !== null && row.secret_encrypted !== null ? { hash: row.secret_hash, encrypted: row.secret_encrypted } : undefined
  const failures =
    row.throttle_attempts === null || row.throttle_window_started_at === null
      ? { attempts: 0, windowStartedAt: now }
      : { attempts: row.throttle_attempts, windowStartedAt: Number(row.throttle_window_started_at) }
  return { client: toClient(row), secret, failures }
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

/** The OpenID Connect settings given; those left out stay as they are. */
export async function updateClientOpenIdSettings(
  db: Executor,
  id: string,
  settings: { skipConsent?: boolean; postLogoutRedirectUris?: string[]; backchannelLogoutUri?: string | null; idTokenSignedResponseAlg?: SigningAlgorithm },
  now: number,
): Promise<Client | undefined> {
  const row = await db
    .updateTable('clients')
    .set({
      updated_at: now,
      ...(settings.skipConsent !== undefined && { skip_consent: settings.skipConsent ? 1 : 0 }),
      ...(settings.postLogoutRedirectUris !== undefined && { post_logout_redirect_uris: JSON.stringify(settings.postLogoutRedirectUris) }),
      ...(settings.backchannelLogoutUri !== undefined && { backchannel_logout_uri: settings.backchannelLogoutUri }),
      ...(settings.idTokenSignedResponseAlg !== undefined && { id_token_signed_response_alg: settings.idTokenSignedResponseAlg }),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
  return row && toClient(row)
}

/** Whether the client may exchange tokens it is handed (RFC 8693). */
export async function updateClientTokenExchange(db: Executor, id: string, tokenExchange: boolean, now: number): Promise<Client | undefined> {
  const row = await db
    .updateTable('clients')
    .set({ updated_at: now, token_exchange: tokenExchange ? 1 : 0 })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
  return row && toClient(row)
}

/** The keys a client's assertions are checked against: a JWK Set, or the URL of one, never both. */
export async function updateClientKeys(
  db: Executor,
  id: string,
  keys: { tokenEndpointAuthMethod: AssertionMethod | null; jwks: JsonWebKeySet | null; jwksUri: string | null },
  now: number,
): Promise<Client | undefined> {
  const row = await db
    .updateTable('clients')
    .set({
      token_endpoint_auth_method: keys.tokenEndpointAuthMethod,
      jwks: keys.jwks ? JSON.stringify(keys.jwks) : null,
      jwks_uri: keys.jwksUri,
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

/** A private_key_jwt client has no secret: one kept would be a second way in. */
export async function clearClientSecret(db: Executor, id: string, now: number): Promise<void> {
  await db.updateTable('clients').set({ secret_hash: null, secret_encrypted: null, updated_at: now }).where('id', '=', id).execute()
}

/** Deleting a client deletes its codes, grants and tokens with it (foreign keys cascade). */
export async function deleteClientById(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('clients').where('id', '=', id).executeTakeFirst()
  announceRevoked(db, 'all')
  return Number(result.numDeletedRows) === 1
}

/** A self-registered client with what RFC 7591/7592 keep about it. */
export interface SelfRegisteredClientRow {
  client: Client
  metadata: string
  registrationTokenHash: string | null
  metadataExpiresAt: number | null
  secret: StoredClientSecret | undefined
}

export async function findSelfRegisteredClient(db: Executor, id: string): Promise<SelfRegisteredClientRow | undefined> {
  const row = await db.selectFrom('clients').selectAll().where('id', '=', id).where('kind', '!=', 'registered').executeTakeFirst()
  if (!row || row.metadata === null) return undefined
  return {
    client: toClient(row),
    metadata: row.metadata,
    registrationTokenHash: row.registration_token_hash,
    metadataExpiresAt: row.metadata_expires_at,
    secret: row.secret_hash !== null && row.secret_encrypted !== null ? { hash: row.secret_hash, encrypted: row.secret_encrypted } : undefined,
  }
}

/** RFC 7592 §2.2 update, or a metadata document fetched again: name, redirect URLs and metadata together. */
export async function updateSelfRegisteredClient(
  db: Executor,
  id: string,
  fields: {
    name: string
    redirectUris: string[]
    metadata: string
    registrationTokenHash?: string
    metadataExpiresAt?: number | null
    postLogoutRedirectUris?: string[]
    backchannelLogoutUri?: string | null
    idTokenSignedResponseAlg?: SigningAlgorithm
  },
  now: number,
): Promise<Client | undefined> {
  const row = await db
    .updateTable('clients')
    .set({
      name: fields.name,
      redirect_uris: JSON.stringify(fields.redirectUris),
      metadata: fields.metadata,
      updated_at: now,
      ...(fields.postLogoutRedirectUris !== undefined && { post_logout_redirect_uris: JSON.stringify(fields.postLogoutRedirectUris) }),
      ...(fields.backchannelLogoutUri !== undefined && { backchannel_logout_uri: fields.backchannelLogoutUri }),
      ...(fields.idTokenSignedResponseAlg !== undefined && { id_token_signed_response_alg: fields.idTokenSignedResponseAlg }),
      ...(fields.registrationTokenHash !== undefined && { registration_token_hash: fields.registrationTokenHash }),
      ...(fields.metadataExpiresAt !== undefined && { metadata_expires_at: fields.metadataExpiresAt }),
    })
    .where('id', '=', id)
    .where('kind', '!=', 'registered')
    .returningAll()
    .executeTakeFirst()
  return row && toClient(row)
}

/**
 * The janitor's part for self-registered clients: those nobody authorised
 * within `unauthorisedBefore`, and those that got no token since `unusedSince`.
 * Up to `limit` at a time; their codes, grants and tokens go with them.
 */
export async function deleteAbandonedClients(db: Executor, cutoffs: { unauthorisedBefore: number; unusedSince: number }, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('clients')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('clients as c')
        .select('c.id')
        .where('c.kind', '!=', 'registered')
        .where((w) =>
          w.or([
            w.and([
              w('c.created_at', '<=', cutoffs.unauthorisedBefore),
              w.not(w.exists(w.selectFrom('consents').select('consents.client_id').whereRef('consents.client_id', '=', 'c.id'))),
              w.not(w.exists(w.selectFrom('grants').select('grants.id').whereRef('grants.client_id', '=', 'c.id'))),
            ]),
            w.and([
              w('c.created_at', '<=', cutoffs.unusedSince),
              w.not(
                w.exists(
                  w
                    .selectFrom('access_tokens')
                    .select('access_tokens.jti')
                    .whereRef('access_tokens.client_id', '=', 'c.id')
                    .where('access_tokens.created_at', '>', cutoffs.unusedSince),
                ),
              ),
            ]),
          ]),
        )
        .limit(limit),
    )
    .executeTakeFirst()
  if (Number(result.numDeletedRows) > 0) announceRevoked(db, 'all')
  return Number(result.numDeletedRows)
}

/** A metadata-document client as last fetched; a row of its own so its codes and tokens have a client to belong to. */
export async function upsertMetadataDocumentClient(
  db: Executor,
  client: { id: string; name: string; redirectUris: string[]; postLogoutRedirectUris: string[]; metadata: string; metadataExpiresAt: number },
  now: number,
): Promise<Client> {
  const fields = {
    name: client.name,
    redirect_uris: JSON.stringify(client.redirectUris),
    post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
    metadata: client.metadata,
    metadata_expires_at: client.metadataExpiresAt,
    updated_at: now,
  }
  const row = await db
    .insertInto('clients')
    .values({
      id: client.id,
      ...fields,
      is_confidential: 0,
      is_first_party: 0,
      secret_hash: null,
      secret_encrypted: null,
      owner_user_id: null,
      team_id: null,
      created_at: now,
      kind: 'metadata_document',
      registration_token_hash: null,
    })
    .onConflict((oc) => oc.column('id').doUpdateSet(fields).where('clients.kind', '=', 'metadata_document'))
    .returningAll()
    .executeTakeFirstOrThrow()
  return toClient(row)
}

/** A page of clients of every kind by id, after `afterId`. */
export async function listClients(
  db: Executor,
  filter: { afterId?: string; limit: number; teamId?: number; ownerUserId?: number; kind?: ClientKind },
): Promise<Client[]> {
  let query = db.selectFrom('clients').selectAll()
  if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId)
  if (filter.teamId !== undefined) query = query.where('team_id', '=', filter.teamId)
  if (filter.ownerUserId !== undefined) query = query.where('owner_user_id', '=', filter.ownerUserId)
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind)
  const rows = await query.orderBy('id').limit(filter.limit).execute()
  return rows.map(toClient)
}
