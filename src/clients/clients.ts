import { randomUUID } from 'node:crypto'
import type { Keys } from '../crypto/master-key.js'
import { hmac, randomSecret, safeEqual } from '../crypto/random.js'
import { open, seal } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import {
  deleteClientById,
  findClientById,
  findClientForAuthentication,
  findClientWithSecret,
  insertClient,
  listClients,
  listClientsByOwner,
  updateClientDetails,
  updateClientOpenIdSettings,
  updateClientTokenExchange,
  updateClientKeys,
  updateClientSecret,
  clearClientSecret,
} from '../db/clients.js'
import { upsertMembership } from '../db/teams.js'
import { deleteServiceAccount, insertServiceAccount, setUserName } from '../db/users.js'
import { keysRefusal, parseJwks, validateJwksUri } from './client-keys.js'
import { DEFAULT_ID_TOKEN_ALGORITHM, type SigningAlgorithm } from '../keys/algorithms.js'
import { Refusal } from '../messages.js'
import { validName } from '../names.js'
import { isInternalHost } from '../outbound/addresses.js'
import { validateRedirectUri, validateRedirectUris } from './redirect-uris.js'
import { isSelfRegistered, isServiceClient, type AssertionMethod, type Client, type JsonWebKeySet, type StoredClientSecret } from './types.js'

export interface NewClient {
  name: string
  redirectUris: string[]
  ownerUserId: number
  teamId: number
  isConfidential?: boolean
  isFirstParty?: boolean
  skipConsent?: boolean
  postLogoutRedirectUris?: string[]
  backchannelLogoutUri?: string | null
  /** Chosen with chooseIdTokenAlgorithm; RS256 when left out. */
  idTokenSignedResponseAlg?: SigningAlgorithm
  /** Made by an operator (the command line), who alone may name an internal host as the back-channel logout URL. */
  byOperator?: boolean
  /** A service client: no redirect URLs, and a service account of its own in its team, which its client_credentials tokens act as. */
  isService?: boolean
  /** Proves itself with a signed JWT rather than by sending its secret; a private_key_jwt client has no secret at all. */
  tokenEndpointAuthMethod?: AssertionMethod | null
  /** A private_key_jwt client's public keys, or where to fetch them: exactly one of the two. */
  jwks?: JsonWebKeySet | null
  jwksUri?: string | null
  /** RFC 8693: may exchange tokens; only an operator lets a client do so, and only a client that authenticates. */
  tokenExchange?: boolean
}

/** The keys a client proves itself with, checked: what its method needs and nothing else. */
function validateClientKeys(input: {
  isConfidential: boolean
  tokenEndpointAuthMethod?: AssertionMethod | null
  jwks?: JsonWebKeySet | null
  jwksUri?: string | null
  byOperator?: boolean
}): { tokenEndpointAuthMethod: AssertionMethod | null; jwks: JsonWebKeySet | null; jwksUri: string | null } {
  const method = input.tokenEndpointAuthMethod ?? null
  const jwks = input.jwks ?? null
  const jwksUri = input.jwksUri?.trim() ? input.jwksUri : null
  if (method !== null && !input.isConfidential) throw new Refusal('client_keys_public')
  if (method === 'private_key_jwt') {
    if ((jwks === null) === (jwksUri === null)) throw new Refusal('client_keys_required')
    try {
      return { tokenEndpointAuthMethod: method, jwks: jwks && parseJwks(jwks), jwksUri: jwksUri && validateJwksUri(jwksUri, input.byOperator) }
    } catch (err) {
      keysRefusal(err)
    }
  }
  if (jwks !== null || jwksUri !== null) throw new Refusal('client_keys_unused')
  return { tokenEndpointAuthMethod: method, jwks: null, jwksUri: null }
}

/** A service account's address: on the reserved .invalid domain (RFC 2606), so no mail is ever sent to it and no person can sign up with it. */
function serviceAccountEmail(clientId: string): string {
  return `${clientId}@service-accounts.invalid`
}

/**
 * OpenID Connect Registration §2 `id_token_signed_response_alg`: one of the
 * algorithms ID tokens may be signed with (those discovery lists), RS256
 * when none is chosen.
 */
export function chooseIdTokenAlgorithm(value: string | undefined, offered: readonly SigningAlgorithm[]): SigningAlgorithm {
  if (value === undefined || value === '') return DEFAULT_ID_TOKEN_ALGORITHM
  const alg = offered.find((a) => a === value)
  if (!alg) throw new Refusal('id_token_alg_unsupported', 400, value)
  return alg
}

export interface OpenIdSettings {
  skipConsent: boolean
  postLogoutRedirectUris: string[]
  backchannelLogoutUri: string | null
}

/**
 * Gatehouse itself POSTs to the back-channel logout URL, so one that a
 * portal member sets must be https on a public host, as for self-registered
 * clients (OWASP A10:2021). An operator may name an internal host; Gatehouse
 * calls it only if the host is on the operator's outbound allow-list.
 */
function validateBackchannelLogoutUri(uri: string, mayBeInternal: boolean): string {
  const valid = validateRedirectUri(uri)
  const url = new URL(valid)
  if (!mayBeInternal && (url.protocol !== 'https:' || isInternalHost(url.hostname))) throw new Refusal('backchannel_logout_uri_not_public')
  return valid
}

/**
 * The OpenID Connect settings, checked: logout URLs follow the rules of
 * redirect URLs, and the back-channel one those of URLs Gatehouse calls
 * (`mayBeInternal` only for an operator's); only a first-party client with a
 * secret may skip consent (public and self-registered clients always show it).
 */
function validateOpenIdSettings(
  client: { isConfidential: boolean; isFirstParty: boolean },
  input: Partial<OpenIdSettings>,
  mayBeInternal: boolean,
): OpenIdSettings {
  const postLogoutRedirectUris = (input.postLogoutRedirectUris ?? []).map(validateRedirectUri)
  if (new Set(postLogoutRedirectUris).size !== postLogoutRedirectUris.length) throw new Refusal('redirect_uri_duplicate')
  const backchannel = input.backchannelLogoutUri?.trim()
  const skipConsent = input.skipConsent ?? false
  if (skipConsent && !(client.isFirstParty && client.isConfidential)) throw new Refusal('skip_consent_first_party')
  return { skipConsent, postLogoutRedirectUris, backchannelLogoutUri: backchannel ? validateBackchannelLogoutUri(backchannel, mayBeInternal) : null }
}

function validateName(name: string): string {
  return validName(name, { required: 'client_name_required', controlCharacters: 'client_name_control_characters', tooLong: 'client_name_too_long' })
}

/** Client secrets are high-entropy random values: a keyed SHA-256 is the right check, not a slow password hash. */
function hashClientSecret(keys: Keys, secret: string): string {
  return hmac(keys.clientSecret, secret)
}

export function storeSecret(keys: Keys, secret: string): StoredClientSecret {
  return { hash: hashClientSecret(keys, secret), encrypted: seal(keys.encryption, secret) }
}

/**
 * Registers a client; returns it with its secret (none for public clients,
 * nor for those that prove themselves with a private key). A service
 * client's service account is made with it, member of its team, in the
 * same transaction.
 */
export async function registerClient(db: Db, keys: Keys, input: NewClient, now: number): Promise<{ client: Client; secret: string | undefined }> {
  const name = validateName(input.name)
  const isService = input.isService ?? false
  if (isService && input.redirectUris.some((u) => u.trim() !== '')) throw new Refusal('service_client_redirect_uris')
  if (isService && (input.isConfidential === false || input.isFirstParty)) throw new Refusal('service_client_kind')
  const redirectUris = isService ? [] : validateRedirectUris(input.redirectUris)
  const isConfidential = input.isConfidential ?? true
  const isFirstParty = input.isFirstParty ?? false
  const tokenExchange = (input.byOperator ?? false) && (input.tokenExchange ?? false)
  if (tokenExchange && !isConfidential) throw new Refusal('token_exchange_public')
  const clientKeys = validateClientKeys({ ...input, isConfidential })
  const openid = validateOpenIdSettings(
    { isConfidential, isFirstParty },
    { ...input, backchannelLogoutUri: input.backchannelLogoutUri ?? null },
    input.byOperator ?? false,
  )
  const secret = isConfidential && clientKeys.tokenEndpointAuthMethod !== 'private_key_jwt' ? randomSecret(32) : undefined
  const id = randomUUID()
  const client = await db.kysely.transaction().execute(async (trx) => {
    const account = isService ? await insertServiceAccount(trx, { email: serviceAccountEmail(id), name, now }) : undefined
    if (account) await upsertMembership(trx, input.teamId, account.id, 'member', now)
    return insertClient(trx, {
      id,
      name,
      redirectUris,
      isConfidential,
      isFirstParty,
      ...openid,
      idTokenSignedResponseAlg: input.idTokenSignedResponseAlg ?? DEFAULT_ID_TOKEN_ALGORITHM,
      ownerUserId: input.ownerUserId,
      teamId: input.teamId,
      secret: secret === undefined ? undefined : storeSecret(keys, secret),
      serviceAccountId: account?.id,
      ...clientKeys,
      tokenExchange,
      now,
    })
  })
  return { client, secret }
}

/**
 * Sets how a confidential client proves itself: by its secret (method
 * null), by an HMAC with it (client_secret_jwt), or with a private key whose
 * public keys or their URL it registered (private_key_jwt). A client moving
 * to private_key_jwt loses its secret; one moving back gets a new one,
 * returned once.
 */
export async function setClientKeys(
  db: Db,
  keys: Keys,
  client: Client,
  input: { tokenEndpointAuthMethod: AssertionMethod | null; jwks?: JsonWebKeySet | null; jwksUri?: string | null; byOperator?: boolean },
  now: number,
): Promise<{ client: Client; secret: string | undefined }> {
  const checked = validateClientKeys({ ...input, isConfidential: client.isConfidential })
  const hadSecret = client.tokenEndpointAuthMethod !== 'private_key_jwt'
  const needsSecret = checked.tokenEndpointAuthMethod !== 'private_key_jwt'
  const secret = needsSecret && !hadSecret ? randomSecret(32) : undefined
  const updated = await db.kysely.transaction().execute(async (trx) => {
    if (secret !== undefined) await updateClientSecret(trx, client.id, storeSecret(keys, secret), now)
    if (!needsSecret) await clearClientSecret(trx, client.id, now)
    return updateClientKeys(trx, client.id, checked, now)
  })
  if (!updated) throw new Refusal('client_not_found', 404)
  return { client: updated, secret }
}

export function findClient(db: Db, id: string): Promise<Client | undefined> {
  return findClientById(db.kysely, id)
}

/** Clients of every kind by id, `limit` of them after `afterId`: the admin API's list. */
export function clientsAfter(db: Db, filter: Parameters<typeof listClients>[1]): Promise<Client[]> {
  return listClients(db.kysely, filter)
}

export function clientsOwnedBy(db: Db, userId: number): Promise<Client[]> {
  return listClientsByOwner(db.kysely, userId)
}

export type ClientOnFile = NonNullable<Awaited<ReturnType<typeof findClientForAuthentication>>>

/** What client authentication needs in one read: the client, its stored secret, and the failures counted under `throttleKey`. */
export function clientOnFile(db: Db, clientId: string, throttleKey: string, now: number): Promise<ClientOnFile | undefined> {
  return findClientForAuthentication(db.kysely, clientId, throttleKey, now)
}

/**
 * Checks a client's secret against what is on file. Returns the client, or
 * undefined when no client is on file or the secret is wrong: the caller
 * cannot tell which, and both take the same time.
 */
export function clientSecretMatches(keys: Keys, onFile: Pick<ClientOnFile, 'client' | 'secret'> | undefined, secret: string): Client | undefined {
  const expected = onFile?.secret?.hash ?? hashClientSecret(keys, `unknown client ${randomSecret(8)}`)
  const ok = safeEqual(hashClientSecret(keys, secret), expected)
  return ok && onFile?.secret ? onFile.client : undefined
}

/** Checks a client's credentials (as `clientSecretMatches`), reading the client first. */
export async function verifyClientSecret(db: Db, keys: Keys, clientId: string, secret: string): Promise<Client | undefined> {
  return clientSecretMatches(keys, await findClientWithSecret(db.kysely, clientId), secret)
}

/** The client's secret in clear, for its owner to view again. */
export async function revealClientSecret(db: Db, keys: Keys, clientId: string): Promise<string | undefined> {
  const found = await findClientWithSecret(db.kysely, clientId)
  return found?.secret && open(keys.encryption, found.secret.encrypted)
}

/** What the owner of a client changes on its page. */
export interface ClientChanges {
  name: string
  redirectUris: string[]
  postLogoutRedirectUris: string[]
  backchannelLogoutUri: string | null
  idTokenSignedResponseAlg: SigningAlgorithm
}

/**
 * Checks every field before writing any, so a refused change leaves the
 * client as it was. A back-channel URL an operator set may stay as it is
 * while the owner changes the rest; a new one follows the portal's rule.
 */
export async function updateClient(db: Db, client: Client, changes: ClientChanges, now: number): Promise<Client> {
  const name = validateName(changes.name)
  if (isServiceClient(client) && changes.redirectUris.some((u) => u.trim() !== '')) throw new Refusal('service_client_redirect_uris')
  const redirectUris = isServiceClient(client) ? [] : validateRedirectUris(changes.redirectUris)
  const unchanged = changes.backchannelLogoutUri?.trim() === client.backchannelLogoutUri
  const { postLogoutRedirectUris, backchannelLogoutUri } = validateOpenIdSettings(client, { ...changes, skipConsent: client.skipConsent }, unchanged)
  const updated = await db.kysely.transaction().execute(async (trx) => {
    if (!(await updateClientDetails(trx, client.id, name, redirectUris, now))) return undefined
    // The service account is named after its client, whatever the client is called now.
    if (client.serviceAccountId !== null) await setUserName(trx, client.serviceAccountId, name, now)
    return updateClientOpenIdSettings(
      trx,
      client.id,
      { postLogoutRedirectUris, backchannelLogoutUri, idTokenSignedResponseAlg: changes.idTokenSignedResponseAlg },
      now,
    )
  })
  if (!updated) throw new Refusal('client_not_found', 404)
  return updated
}

/** Only the product's own apps with a secret may be let through without the consent page; public and self-registered clients never. */
export function mayOfferSkipConsent(client: Client): boolean {
  return client.isFirstParty && client.isConfidential && !isSelfRegistered(client)
}

/** The switch for the product's own apps on the client's page: users are signed in to them without the consent page. */
export async function setSkipConsent(db: Db, client: Client, skipConsent: boolean, now: number): Promise<Client> {
  if (skipConsent && !mayOfferSkipConsent(client)) throw new Refusal('skip_consent_first_party')
  const updated = await updateClientOpenIdSettings(db.kysely, client.id, { skipConsent }, now)
  if (!updated) throw new Refusal('client_not_found', 404)
  return updated
}

/** Only the apps an operator registered with a secret may exchange tokens: the same apps that may skip the consent page. */
export function mayOfferTokenExchange(client: Client): boolean {
  return mayOfferSkipConsent(client)
}

/** The operator's switch for token exchange (RFC 8693); a client that authenticates may be allowed from the CLI, a first-party one on its page too. */
export async function setTokenExchange(db: Db, client: Client, tokenExchange: boolean, now: number): Promise<Client> {
  if (tokenExchange && !client.isConfidential) throw new Refusal('token_exchange_public')
  const updated = await updateClientTokenExchange(db.kysely, client.id, tokenExchange, now)
  if (!updated) throw new Refusal('client_not_found', 404)
  return updated
}

/** A new secret; the old one stops working at once. */
export async function regenerateClientSecret(db: Db, keys: Keys, clientId: string, now: number): Promise<string> {
  if ((await findClientById(db.kysely, clientId))?.tokenEndpointAuthMethod === 'private_key_jwt') throw new Refusal('client_no_secret_keys')
  const secret = randomSecret(32)
  if (!(await updateClientSecret(db.kysely, clientId, storeSecret(keys, secret), now))) throw new Refusal('client_not_found', 404, clientId)
  return secret
}

/** Deletes the client; every code and token it holds goes with it, and so does a service client's service account. */
export async function deleteClient(db: Db, clientId: string): Promise<void> {
  const deleted = await db.kysely.transaction().execute(async (trx) => {
    const client = await findClientById(trx, clientId)
    if (!client || !(await deleteClientById(trx, clientId))) return false
    if (client.serviceAccountId !== null) await deleteServiceAccount(trx, client.serviceAccountId)
    return true
  })
  if (!deleted) throw new Refusal('client_not_found', 404, clientId)
}
