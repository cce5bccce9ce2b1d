import type { Client, ClientKind } from '../clients/types.js'

/** The facts of a client the consent and authorization rules read. */
export type ClientFacts = Partial<Pick<Client, 'isConfidential' | 'isFirstParty' | 'skipConsent' | 'ownerUserId' | 'teamId'>> & { kind?: ClientKind }

/** A client as the domain sees it, without a database: a confidential client a person registered unless told otherwise. */
export function clientWith(facts: ClientFacts = {}): Client {
  const kind = facts.kind ?? 'registered'
  return {
    id: kind === 'metadata_document' ? 'https://app.example/client.json' : 'client-1',
    name: 'Example App',
    redirectUris: ['https://app.example/cb'],
    isConfidential: facts.isConfidential ?? true,
    isFirstParty: facts.isFirstParty ?? false,
    skipConsent: facts.skipConsent ?? false,
    postLogoutRedirectUris: [],
    backchannelLogoutUri: null,
    idTokenSignedResponseAlg: 'RS256',
    ownerUserId: facts.ownerUserId ?? null,
    teamId: facts.teamId ?? null,
    kind,
    declared: undefined,
    serviceAccountId: null,
    tokenEndpointAuthMethod: null,
    jwks: null,
    jwksUri: null,
    tokenExchange: false,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  }
}
