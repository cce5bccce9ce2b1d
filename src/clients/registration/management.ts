import { randomUUID } from 'node:crypto'
import type { Keys } from '../../crypto/master-key.js'
import { hashSecret, randomSecret, safeEqual } from '../../crypto/random.js'
import { open } from '../../crypto/secret-box.js'
import type { Db } from '../../db/connection.js'
import {
  deleteClientById,
  findSelfRegisteredClient,
  insertClient,
  updateClientKeys,
  updateSelfRegisteredClient,
  type SelfRegisteredClientRow,
} from '../../db/clients.js'
import { DEFAULT_ID_TOKEN_ALGORITHM, type SigningAlgorithm } from '../../keys/algorithms.js'
import { InvalidClientMetadata, InvalidToken } from '../../protocol/errors.js'
import { storeSecret } from '../clients.js'
import type { AssertionMethod, Client, JsonWebKeySet } from '../types.js'
import { displayName, parseDynamicClientMetadata, type ClientMetadata } from './metadata.js'

export interface RegistrationDeps {
  db: Db
  keys: Keys
  issuer: string
  /** What ID tokens may be signed with (discovery's id_token_signing_alg_values_supported). */
  idTokenAlgorithms: readonly SigningAlgorithm[]
}

/** The OpenID Connect settings of a self-registered client, as its metadata says; the defaults when it says nothing. */
function openIdSettings(metadata: ClientMetadata): {
  postLogoutRedirectUris: string[]
  backchannelLogoutUri: string | null
  idTokenSignedResponseAlg: SigningAlgorithm
} {
  return {
    postLogoutRedirectUris: metadata.post_logout_redirect_uris ?? [],
    backchannelLogoutUri: metadata.backchannel_logout_uri ?? null,
    idTokenSignedResponseAlg: metadata.id_token_signed_response_alg ?? DEFAULT_ID_TOKEN_ALGORITHM,
  }
}

/** How the client proves itself, as registered: the assertion methods and their keys are kept on the client for client authentication. */
function clientKeysOf(metadata: ClientMetadata): { tokenEndpointAuthMethod: AssertionMethod | null; jwks: JsonWebKeySet | null; jwksUri: string | null } {
  const method = metadata.token_endpoint_auth_method
  return {
    tokenEndpointAuthMethod: method === 'client_secret_jwt' || method === 'private_key_jwt' ? method : null,
    jwks: metadata.jwks ?? null,
    jwksUri: metadata.jwks_uri ?? null,
  }
}

export function registrationClientUri(issuer: string, clientId: string): string {
  return `${issuer}/oauth/register/${encodeURIComponent(clientId)}`
}

/** RFC 7591 §3.2.1 / RFC 7592 §3: the client's information; a secret only for confidential clients. */
function clientInformation(deps: RegistrationDeps, client: Client, metadata: ClientMetadata, secret: string | undefined, registrationToken: string) {
  return {
    client_id: client.id,
    client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
    ...(secret !== undefined && { client_secret: secret, client_secret_expires_at: 0 }),
    registration_access_token: registrationToken,
    registration_client_uri: registrationClientUri(deps.issuer, client.id),
    ...metadata,
    // OpenID Connect Registration §3.2: the registered value, the default included.
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
  }
}

export type ClientInformation = ReturnType<typeof clientInformation>

/** RFC 7591 §3: registers the client. It belongs to no owner and no team. */
export async function registerDynamicClient(deps: RegistrationDeps, body: unknown, now: number): Promise<ClientInformation> {
  const metadata = await parseDynamicClientMetadata(deps.db, body, deps.idTokenAlgorithms)
  const isConfidential = metadata.token_endpoint_auth_method !== 'none'
  const secret = isConfidential && metadata.token_endpoint_auth_method !== 'private_key_jwt' ? randomSecret(32) : undefined
  const registrationToken = randomSecret(32)
  const client = await insertClient(deps.db.kysely, {
    id: randomUUID(),
    name: displayName(metadata),
    redirectUris: metadata.redirect_uris,
    isConfidential,
    isFirstParty: false,
    ...openIdSettings(metadata),
    ownerUserId: null,
    teamId: null,
    secret: secret === undefined ? undefined : storeSecret(deps.keys, secret),
    ...clientKeysOf(metadata),
    now,
    selfRegistered: { kind: 'dynamic', metadata: JSON.stringify(metadata), registrationTokenHash: hashSecret(registrationToken), metadataExpiresAt: null },
  })
  return clientInformation(deps, client, metadata, secret, registrationToken)
}

/** RFC 7592 §3: the registration access token, checked in constant time; any failure reads the same. */
async function authorisedRegistration(deps: RegistrationDeps, clientId: string, token: string | undefined): Promise<SelfRegisteredClientRow> {
  const found = await findSelfRegisteredClient(deps.db.kysely, clientId)
  const expected = found?.registrationTokenHash ?? hashSecret(`no client ${randomSecret(8)}`)
  if (token === undefined || !safeEqual(hashSecret(token), expected) || !found || found.client.kind !== 'dynamic') {
    throw new InvalidToken('The registration access token is missing or not valid for this client.')
  }
  return found
}

/** RFC 7592 §2.1. A new registration access token comes back each time (§3), and the old one stops working. */
export async function readRegistration(deps: RegistrationDeps, clientId: string, token: string | undefined, now: number): Promise<ClientInformation> {
  const found = await authorisedRegistration(deps, clientId, token)
  const metadata = JSON.parse(found.metadata) as ClientMetadata
  const fresh = randomSecret(32)
  await updateSelfRegisteredClient(
    deps.db.kysely,
    clientId,
    { name: found.client.name, redirectUris: found.client.redirectUris, metadata: found.metadata, registrationTokenHash: hashSecret(fresh) },
    now,
  )
  return clientInformation(deps, found.client, metadata, found.secret && open(deps.keys.encryption, found.secret.encrypted), fresh)
}

/** RFC 7592 §2.2: the new metadata replaces the old; whether the client has a secret cannot change. */
export async function updateRegistration(
  deps: RegistrationDeps,
  clientId: string,
  token: string | undefined,
  body: unknown,
  now: number,
): Promise<ClientInformation> {
  const found = await authorisedRegistration(deps, clientId, token)
  if (typeof body === 'object' && body !== null && 'client_id' in body && (body as { client_id: unknown }).client_id !== clientId) {
    throw new InvalidClientMetadata('client_id in the body must be the client being updated.')
  }
  const metadata = await parseDynamicClientMetadata(deps.db, body, deps.idTokenAlgorithms)
  if ((metadata.token_endpoint_auth_method === 'none') === found.client.isConfidential) {
    throw new InvalidClientMetadata('token_endpoint_auth_method cannot change between none and a client secret; register a new client instead.')
  }
  if ((metadata.token_endpoint_auth_method === 'private_key_jwt') !== (found.client.tokenEndpointAuthMethod === 'private_key_jwt')) {
    throw new InvalidClientMetadata('token_endpoint_auth_method cannot change between private_key_jwt and a client secret; register a new client instead.')
  }
  const fresh = randomSecret(32)
  const client = await updateSelfRegisteredClient(
    deps.db.kysely,
    clientId,
    {
      name: displayName(metadata),
      redirectUris: metadata.redirect_uris,
      // RFC 7592 §2.2: what the new metadata leaves out is removed.
      ...openIdSettings(metadata),
      metadata: JSON.stringify(metadata),
      registrationTokenHash: hashSecret(fresh),
    },
    now,
  )
  if (!client || !(await updateClientKeys(deps.db.kysely, clientId, clientKeysOf(metadata), now)))
    throw new InvalidToken('The registration access token is missing or not valid for this client.')
  return clientInformation(deps, client, metadata, found.secret && open(deps.keys.encryption, found.secret.encrypted), fresh)
}

/** RFC 7592 §2.3: the client and every code and token it holds are deleted. */
export async function deleteRegistration(deps: RegistrationDeps, clientId: string, token: string | undefined): Promise<void> {
  await authorisedRegistration(deps, clientId, token)
  await deleteClientById(deps.db.kysely, clientId)
}
