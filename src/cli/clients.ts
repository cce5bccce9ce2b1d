import { userInTeam } from '../accounts/teams.js'
import { requireUserByEmail } from '../accounts/users.js'
import { chooseIdTokenAlgorithm, clientsOwnedBy, deleteClient, findClient, registerClient, setClientKeys, setTokenExchange } from '../clients/clients.js'
import { Refusal } from '../messages.js'
import { idTokenAlgorithms, SIGNING_ALGORITHMS } from '../keys/algorithms.js'
import { readFileSync } from 'node:fs'
import { keysRefusal, parsePublicKeys } from '../clients/client-keys.js'
import type { AssertionMethod, Client, JsonWebKeySet } from '../clients/types.js'
import { json, optional, print, repeated, required, UsageError, withContext, withDatabase, type Commands, type Values } from './command.js'

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']

/** `--auth-method`: the secret methods need nothing stored beyond the secret; the assertion methods are what is recorded. */
function assertionMethod(values: Values): AssertionMethod | null {
  const given = optional(values, 'auth-method')
  const keysGiven = optional(values, 'jwks-file') !== undefined || optional(values, 'jwks-uri') !== undefined
  const method = given ?? (keysGiven ? 'private_key_jwt' : 'client_secret_basic')
  if (!AUTH_METHODS.includes(method)) throw new UsageError(`--auth-method must be one of ${AUTH_METHODS.join(', ')}`)
  if (keysGiven && method !== 'private_key_jwt') throw new UsageError('--jwks-file and --jwks-uri go with --auth-method private_key_jwt')
  return method === 'client_secret_jwt' || method === 'private_key_jwt' ? method : null
}

/** `--jwks-file`: a JWK, a JWK Set or a PEM public key, as the portal takes them. */
async function keysFromFile(path: string | undefined): Promise<JsonWebKeySet | null> {
  if (path === undefined) return null
  let text
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`--jwks-file cannot be read: ${(err as Error).message}`)
  }
  return parsePublicKeys(text).catch(keysRefusal)
}

function clientJson(client: Client, secret?: string) {
  return {
    client_id: client.id,
    ...(secret === undefined ? {} : { client_secret: secret }),
    name: client.name,
    redirect_uris: client.redirectUris,
    confidential: client.isConfidential,
    first_party: client.isFirstParty,
    team_id: client.teamId,
    skip_consent: client.skipConsent,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    backchannel_logout_uri: client.backchannelLogoutUri,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    service: client.serviceAccountId !== null,
    service_account_id: client.serviceAccountId,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? (client.isConfidential ? 'client_secret_basic' : 'none'),
    ...(client.jwksUri === null ? {} : { jwks_uri: client.jwksUri }),
    token_exchange: client.tokenExchange,
    created_at: client.createdAt.toISOString(),
  }
}

export const clientCommands: Commands = {
  'clients create': {
    usage:
      'gatehouse clients create --owner E --name N (--redirect-uri U [--redirect-uri U2 …] | --service) [--team T] [--first-party] [--skip-consent] [--public]' +
      ' [--post-logout-redirect-uri U …] [--backchannel-logout-uri U] [--id-token-alg A]' +
      ' [--auth-method M] [--jwks-file F | --jwks-uri U] [--token-exchange] [--json]',
    options: {
      owner: { type: 'string' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      team: { type: 'string' },
      'first-party': { type: 'boolean' },
      'skip-consent': { type: 'boolean' },
      public: { type: 'boolean' },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'backchannel-logout-uri': { type: 'string' },
      'id-token-alg': { type: 'string' },
      service: { type: 'boolean' },
      'auth-method': { type: 'string' },
      'jwks-file': { type: 'string' },
      'jwks-uri': { type: 'string' },
      'token-exchange': { type: 'boolean' },
      ...json,
    },
    describe: {
      owner: 'e-mail address of the user who owns the client',
      name: 'the name users see on the consent page',
      'redirect-uri': 'a URL the authorization response may be sent to (repeat for several)',
      team: "the owner's team the client belongs to (default: the owner's first team)",
      'first-party': "one of the product's own apps: may use the password grant",
      'skip-consent': 'with --first-party: sign users in without the consent page',
      public: 'no client secret (native and single-page apps; PKCE required)',
      'post-logout-redirect-uri': 'a URL the browser may be sent to after logging out (repeat for several)',
      'backchannel-logout-uri':
        'a URL that is sent a logout token when a session that signed in to the client ends (an internal host only if GATEHOUSE_OUTBOUND_ALLOWED_HOSTS lists it)',
      'id-token-alg': `what the client's ID tokens are signed with: RS256 (the default) or GATEHOUSE_SIGNING_ALG (${SIGNING_ALGORITHMS.join(', ')})`,
      service:
        'a service client: no redirect URLs; it gets tokens for itself with the client_credentials grant, acting as a service account of its own in the team',
      'auth-method': `how the client proves itself at the token endpoint: ${AUTH_METHODS.join(', ')} (default client_secret_basic, which also allows client_secret_post)`,
      'jwks-file': 'with private_key_jwt: a file holding the public key (a JWK, a JWK Set or a PEM public key)',
      'jwks-uri':
        'with private_key_jwt: the https URL of the JWK Set of its public keys, fetched when needed (an internal host only if GATEHOUSE_OUTBOUND_ALLOWED_HOSTS lists it)',
      'token-exchange': 'let the client exchange access tokens it is given for tokens of its own that act for the same user (RFC 8693), naming it as the actor',
      json: 'print the result as JSON',
    },
    async run(values) {
      const owner = required(values, 'owner')
      const name = required(values, 'name')
      const redirectUris = repeated(values, 'redirect-uri')
      const isService = Boolean(values.service)
      if (isService && redirectUris.length > 0) throw new UsageError('--service clients have no --redirect-uri')
      if (isService && (values.public || values['first-party'])) throw new UsageError('--service clients are neither --public nor --first-party')
      if (!isService && redirectUris.length === 0) throw new UsageError('--redirect-uri is required (once per URL), unless --service')
      const tokenEndpointAuthMethod = assertionMethod(values)
      if (values.public && tokenEndpointAuthMethod !== null) throw new UsageError('--public clients have no --auth-method but none')
      const jwks = await keysFromFile(optional(values, 'jwks-file'))
      const { client, secret } = await withContext(async (ctx) => {
        const { user, team } = await userInTeam(ctx.db, owner, optional(values, 'team'))
        const idTokenSignedResponseAlg = chooseIdTokenAlgorithm(optional(values, 'id-token-alg'), idTokenAlgorithms(ctx.config.signingAlg))
        return registerClient(
          ctx.db,
          ctx.keys,
          {
            name,
            redirectUris,
            ownerUserId: user.id,
            teamId: team.id,
            isConfidential: !values.public,
            isFirstParty: Boolean(values['first-party']),
            skipConsent: Boolean(values['skip-consent']),
            postLogoutRedirectUris: repeated(values, 'post-logout-redirect-uri'),
            backchannelLogoutUri: optional(values, 'backchannel-logout-uri'),
            idTokenSignedResponseAlg,
            byOperator: true,
            isService,
            tokenEndpointAuthMethod,
            jwks,
            jwksUri: optional(values, 'jwks-uri'),
            tokenExchange: Boolean(values['token-exchange']),
          },
          Date.now(),
        )
      })
      print(
        values,
        clientJson(client, secret),
        `Created ${isService ? 'service client' : 'API client'} "${client.name}"\n  Client ID:     ${client.id}\n` +
          (secret !== undefined
            ? `  Client secret: ${secret}`
            : client.isConfidential
              ? '  (no secret: it proves itself with its private key, private_key_jwt)'
              : '  (public client: no secret, PKCE required)'),
      )
    },
  },

  'clients auth': {
    usage: 'gatehouse clients auth --client-id ID --auth-method M [--jwks-file F | --jwks-uri U] [--json]',
    options: { 'client-id': { type: 'string' }, 'auth-method': { type: 'string' }, 'jwks-file': { type: 'string' }, 'jwks-uri': { type: 'string' }, ...json },
    describe: {
      'client-id': 'the confidential or service client to change',
      'auth-method': `how it proves itself from now on: ${AUTH_METHODS.join(', ')}`,
      'jwks-file': 'with private_key_jwt: a file holding the public key (a JWK, a JWK Set or a PEM public key)',
      'jwks-uri': 'with private_key_jwt: the https URL of the JWK Set of its public keys',
      json: 'print the result as JSON',
    },
    async run(values) {
      const clientId = required(values, 'client-id')
      required(values, 'auth-method')
      const tokenEndpointAuthMethod = assertionMethod(values)
      const jwks = await keysFromFile(optional(values, 'jwks-file'))
      const { client, secret } = await withContext(async (ctx) => {
        const found = await findClient(ctx.db, clientId)
        if (!found) throw new Refusal('client_not_found', 404)
        return setClientKeys(ctx.db, ctx.keys, found, { tokenEndpointAuthMethod, jwks, jwksUri: optional(values, 'jwks-uri'), byOperator: true }, Date.now())
      })
      print(
        values,
        clientJson(client, secret),
        `API client ${client.id} now authenticates with ${tokenEndpointAuthMethod ?? 'its client secret'}` +
          (secret === undefined ? '' : `\n  New client secret: ${secret}`),
      )
    },
  },

  'clients token-exchange': {
    usage: 'gatehouse clients token-exchange --client-id ID --allow|--deny [--json]',
    options: { 'client-id': { type: 'string' }, allow: { type: 'boolean' }, deny: { type: 'boolean' }, ...json },
    describe: {
      'client-id': 'the confidential or service client to change',
      allow: 'let it exchange access tokens it is handed (RFC 8693)',
      deny: 'stop it exchanging tokens',
      json: 'print the result as JSON',
    },
    async run(values) {
      const clientId = required(values, 'client-id')
      if (Boolean(values.allow) === Boolean(values.deny)) throw new UsageError('give exactly one of --allow and --deny')
      const allow = Boolean(values.allow)
      const client = await withContext(async (ctx) => {
        const found = await findClient(ctx.db, clientId)
        if (!found) throw new Refusal('client_not_found', 404)
        return setTokenExchange(ctx.db, found, allow, Date.now())
      })
      print(values, clientJson(client), `API client ${client.id} ${allow ? 'may now exchange tokens' : 'may no longer exchange tokens'}`)
    },
  },

  'clients list': {
    usage: 'gatehouse clients list --owner E [--json]',
    options: { owner: { type: 'string' }, ...json },
    async run(values) {
      const owner = required(values, 'owner')
      const clients = await withDatabase(async (db) => clientsOwnedBy(db, (await requireUserByEmail(db, owner)).id))
      print(
        values,
        clients.map((c) => clientJson(c)),
        clients.length === 0 ? 'No API clients' : clients.map((c) => `${c.id}  ${c.name}  ${c.redirectUris.join(' ')}`).join('\n'),
      )
    },
  },

  'clients delete': {
    usage: 'gatehouse clients delete --client-id ID [--json]',
    options: { 'client-id': { type: 'string' }, ...json },
    async run(values) {
      const clientId = required(values, 'client-id')
      await withDatabase((db) => deleteClient(db, clientId))
      print(values, { client_id: clientId, deleted: true }, `Deleted API client ${clientId}; its tokens no longer work`)
    },
  },
}
