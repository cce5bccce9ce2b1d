/**
 * 'registered': by a person, in the portal or on the command line, owned by
 * them in a team. 'dynamic': registered itself (RFC 7591). 'metadata_document':
 * its client_id is the https URL of its metadata document. The last two
 * belong to no one and are not verified.
 */
import type { SigningAlgorithm } from '../keys/algorithms.js'

export type ClientKind = 'registered' | 'dynamic' | 'metadata_document'

/** RFC 7591 §2: what a client that registered itself declared it would use; it may use nothing else. */
export interface DeclaredUse {
  grantTypes: string[]
  /** The scopes it may ask for; undefined when it declared none. */
  scopes: string[] | undefined
}

/** The client authentication methods that prove the client with a signed JWT (RFC 7523 §2.2, OpenID Connect Core §9). */
export type AssertionMethod = 'client_secret_jwt' | 'private_key_jwt'

/** RFC 7517 §5: a JWK Set, as the client registered it. */
export interface JsonWebKeySet {
  keys: Record<string, unknown>[]
}

export interface Client {
  id: string
  name: string
  redirectUris: string[]
  /** Confidential clients have a secret; public ones (native, single-page apps) use PKCE alone. */
  isConfidential: boolean
  /** Only first-party clients may use the password grant (RFC 6749 §4.3: only clients the user trusts as the product itself). */
  isFirstParty: boolean
  /** A first-party client the operator trusts to sign users in without the consent page. */
  skipConsent: boolean
  /** OpenID Connect RP-Initiated Logout §3.1: where the browser may be sent after logging out, exactly as registered. */
  postLogoutRedirectUris: string[]
  /** OpenID Connect Back-Channel Logout §2.2: where the logout token is POSTed when a session ends. */
  backchannelLogoutUri: string | null
  /** OpenID Connect Registration §2: what its ID tokens and logout tokens are signed with; RS256 unless it chose another. */
  idTokenSignedResponseAlg: SigningAlgorithm
  /** Null for clients that registered themselves or are known by a metadata document. */
  ownerUserId: number | null
  teamId: number | null
  kind: ClientKind
  /** Undefined for clients a person registered, which only their kind limits. */
  declared: DeclaredUse | undefined
  /** A service client's service account: the user its client_credentials tokens act as. Null for other clients. */
  serviceAccountId: number | null
  /** Set when the client proves itself with a signed JWT, and then only so; null: by its secret (basic or post), or, for a public client, not at all. */
  tokenEndpointAuthMethod: AssertionMethod | null
  /** The public keys of a private_key_jwt client, registered as they are... */
  jwks: JsonWebKeySet | null
  /** ...or the https URL they are fetched from. */
  jwksUri: string | null
  /** RFC 8693: an operator let it exchange the access tokens it is given for tokens that act for the same user, naming it as the actor. */
  tokenExchange: boolean
  createdAt: Date
  updatedAt: Date
}

/** What the database keeps about a client's secret. */
export interface StoredClientSecret {
  hash: string
  encrypted: string
}

/** A service client acts as its own service account, never for a person. */
export function isServiceClient(client: Pick<Client, 'serviceAccountId'>): boolean {
  return client.serviceAccountId !== null
}

/** Clients no person vouched for: their consent page always shows, and says so. */
export function isSelfRegistered(client: Pick<Client, 'kind'>): boolean {
  return client.kind !== 'registered'
}
