import { userInTeam } from '../accounts/teams.js'
import { requireUserByEmail } from '../accounts/users.js'
import { chooseIdTokenAlgorithm, clientsOwnedBy, deleteClient, registerClient } from '../clients/clients.js'
import { idTokenAlgorithms, SIGNING_ALGORITHMS } from '../keys/algorithms.js'
import type { Client } from '../clients/types.js'
import { json, optional, print, repeated, required, UsageError, withContext, withDatabase, type Commands } from './command.js'

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
    created_at: client.createdAt.toISOString(),
  }
}

export const clientCommands: Commands = {
  'clients create': {
    usage:
      'gatehouse clients create --owner E --name N --redirect-uri U [--redirect-uri U2 …] [--team T] [--first-party] [--skip-consent] [--public]' +
      ' [--post-logout-redirect-uri U …] [--backchannel-logout-uri U] [--id-token-alg A] [--json]',
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
      json: 'print the result as JSON',
    },
    async run(values) {
      const owner = required(values, 'owner')
      const name = required(values, 'name')
      const redirectUris = repeated(values, 'redirect-uri')
      if (redirectUris.length === 0) throw new UsageError('--redirect-uri is required (once per URL)')
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
          },
          Date.now(),
        )
      })
      print(
        values,
        clientJson(client, secret),
        `Created API client "${client.name}"\n  Client ID:     ${client.id}\n` +
          (secret === undefined ? '  (public client: no secret, PKCE required)' : `  Client secret: ${secret}`),
      )
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
