import { teamByIdOrName } from '../accounts/teams.js'
import { deleteTrustedIssuer, listTrustedIssuers, type TrustedIssuer } from '../db/trusted-issuers.js'
import { addTrustedIssuer } from '../oauth/trusted-issuers.js'
import { json, print, required, UsageError, withDatabase, type Commands } from './command.js'

function trustedIssuerJson(trusted: TrustedIssuer) {
  return { id: trusted.id, issuer: trusted.issuer, jwks_uri: trusted.jwksUri, team_id: trusted.teamId, created_at: new Date(trusted.createdAt).toISOString() }
}

export const trustedIssuerCommands: Commands = {
  'trusted-issuers add': {
    usage: 'gatehouse trusted-issuers add --issuer URL --jwks-uri URL --team T [--json]',
    options: { issuer: { type: 'string' }, 'jwks-uri': { type: 'string' }, team: { type: 'string' }, ...json },
    describe: {
      issuer: "the identity provider's issuer, as the iss of its identity assertions",
      'jwks-uri': 'the URL of its public keys (an internal host only if GATEHOUSE_OUTBOUND_ALLOWED_HOSTS lists it)',
      team: 'the team, by name or id, whose members it may assert',
      json: 'print the result as JSON',
    },
    async run(values) {
      const issuer = required(values, 'issuer')
      const jwksUri = required(values, 'jwks-uri')
      const teamName = required(values, 'team')
      const trusted = await withDatabase(async (db) => {
        const team = await teamByIdOrName(db, teamName)
        return addTrustedIssuer(db, { issuer, jwksUri, teamId: team.id }, Date.now())
      })
      print(values, trustedIssuerJson(trusted), `Trusted ${trusted.issuer} for team ${trusted.teamId} (id ${trusted.id})`)
    },
  },

  'trusted-issuers list': {
    usage: 'gatehouse trusted-issuers list [--json]',
    options: json,
    async run(values) {
      const all = await withDatabase((db) => listTrustedIssuers(db.kysely))
      print(
        values,
        all.map(trustedIssuerJson),
        all.length === 0 ? 'No trusted issuers' : all.map((t) => `${t.id}  ${t.issuer}  team ${t.teamId}  ${t.jwksUri}`).join('\n'),
      )
    },
  },

  'trusted-issuers delete': {
    usage: 'gatehouse trusted-issuers delete --id ID [--json]',
    options: { id: { type: 'string' }, ...json },
    async run(values) {
      const id = Number(required(values, 'id'))
      if (!Number.isSafeInteger(id)) throw new UsageError('--id must be a number')
      if (!(await withDatabase((db) => deleteTrustedIssuer(db.kysely, id)))) throw new UsageError(`No trusted issuer has id ${id}`)
      print(values, { id, deleted: true }, `Deleted trusted issuer ${id}; its assertions are refused`)
    },
  },
}
