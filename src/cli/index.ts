#!/usr/bin/env node
import cluster from 'node:cluster'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { parseWorkerCount, startPrimary } from '../workers.js'
import { parseRole, addMember, removeMember, userInTeam } from '../accounts/teams.js'
import { clientsOwnedBy, deleteClient, registerClient } from '../clients/clients.js'
import type { Client } from '../clients/types.js'
import type { AppContext } from '../context.js'
import { rotateSigningKey } from '../keys/signing-keys.js'
import { pruneExpired } from '../tokens/prune.js'
import { createUser, requireUserByEmail, setDisabled } from '../accounts/users.js'
import { ConfigError, loadConfig } from '../config.js'
import { migrateToLatest } from '../db/migrate.js'
import { Refusal } from '../messages.js'
import { closeContext, connectDatabase, createLogger, openContext, openMigratedDatabase, SHUTDOWN_GRACE_MS, startServer } from '../server.js'
import type { Db } from '../db/connection.js'
import { createResource, deleteResource, listResources } from '../resources/resources.js'
import type { Resource } from '../resources/types.js'
import { createRegistrationToken } from '../clients/registration.js'

/** A mistake in how the command was called: message, usage hint, exit 2. */
class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>
type Values = Record<string, string | boolean | string[] | undefined>

interface Command {
  usage: string
  options: Options
  /** What each option does, for `--help`. */
  describe?: Record<string, string>
  run(values: Values): Promise<void>
}

const json = { json: { type: 'boolean' } } as const

function required(values: Values, name: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`)
  return value
}

function optional(values: Values, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

function print(values: Values, data: unknown, line: string): void {
  process.stdout.write(values.json ? JSON.stringify(data) + '\n' : line + '\n')
}

async function withDatabase<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const db = await openMigratedDatabase(loadConfig())
  try {
    return await work(db)
  } finally {
    await db.close()
  }
}

async function withContext<T>(work: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(loadConfig(), createLogger(false))
  try {
    return await work(ctx)
  } finally {
    await closeContext(ctx)
  }
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
    created_at: client.createdAt.toISOString(),
  }
}

function resourceJson(resource: Resource) {
  return { uri: resource.uri, name: resource.name, scopes: resource.scopes }
}

const commands: Record<string, Command> = {
  serve: {
    usage: 'gatehouse serve [--workers N|auto]',
    options: { workers: { type: 'string' } },
    async run(values) {
      const config = loadConfig()
      const workers = parseWorkerCount(optional(values, 'workers'))
      if (cluster.isWorker) {
        const server = await startServer(config, { logger: true, sandbox: false })
        onStop(() => server.close())
        return
      }
      const started = workers > 1 ? await startPrimary(config, workers, process.argv.slice(2)) : await startServer(config, { logger: true })
      process.stdout.write(`Gatehouse is running at ${config.issuer} (listening on ${started.url}${workers > 1 ? `, ${workers} workers` : ''})\n`)
      if (started.sandbox) {
        process.stdout.write(
          `\nA sandbox account was created. Log in at ${config.issuer}/login with\n` +
            `  e-mail:   ${started.sandbox.email}\n` +
            `  password: ${started.sandbox.password}\n` +
            `This password is shown only once.\n\n`,
        )
      }
      onStop(() => ('stop' in started ? started.stop() : started.close()))
    },
  },

  migrate: {
    usage: 'gatehouse migrate [--json]',
    options: json,
    async run(values) {
      const db = await connectDatabase(loadConfig())
      try {
        const applied = await migrateToLatest(db)
        print(values, { applied }, applied.length ? `Applied ${applied.join(', ')}` : 'The database is up to date')
      } finally {
        await db.close()
      }
    },
  },

  'users create': {
    usage: 'gatehouse users create --email E --name N --password P [--team T] [--json]',
    options: { email: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' }, team: { type: 'string' }, ...json },
    async run(values) {
      const input = {
        email: required(values, 'email'),
        name: required(values, 'name'),
        password: required(values, 'password'),
        teamName: optional(values, 'team'),
      }
      const { user, team } = await withDatabase((db) => createUser(db, input, Date.now()))
      print(
        values,
        { id: user.id, email: user.email, name: user.name, team: team ? { id: team.id, name: team.name } : null },
        `Created user ${user.email} (id ${user.id})${team ? `, owner of team "${team.name}" (id ${team.id})` : ''}`,
      )
    },
  },

  'users disable': {
    usage: 'gatehouse users disable --email E [--json]',
    options: { email: { type: 'string' }, ...json },
    async run(values) {
      const { user, revoked } = await withContext(async (ctx) => {
        const result = await setDisabled(ctx.db, required(values, 'email'), true, Date.now(), (ended) => ctx.backchannel.sessionsEnded(ended))
        // The apps its sessions signed in to are told before the command exits.
        await ctx.backchannel.settled()
        return result
      })
      print(
        values,
        { id: user.id, email: user.email, is_disabled: true, revoked: { grants: revoked.grants, personal_access_tokens: revoked.personalAccessTokens } },
        `Disabled ${user.email}: ${revoked.grants} app authorisation(s) with their tokens and ${revoked.personalAccessTokens} personal access token(s) revoked. ` +
          'Enabling the user again restores none of them.',
      )
    },
  },

  'users enable': {
    usage: 'gatehouse users enable --email E [--json]',
    options: { email: { type: 'string' }, ...json },
    async run(values) {
      const { user } = await withDatabase((db) => setDisabled(db, required(values, 'email'), false, Date.now()))
      print(
        values,
        { id: user.id, email: user.email, is_disabled: false },
        `Enabled ${user.email}. Tokens revoked when the user was disabled stay revoked: the user authorises apps and creates personal access tokens again.`,
      )
    },
  },

  'teams add-member': {
    usage: 'gatehouse teams add-member --team T --email E [--role owner|member] [--json]',
    options: { team: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, ...json },
    async run(values) {
      const role = parseRole(optional(values, 'role'))
      const result = await withDatabase((db) => addMember(db, required(values, 'team'), required(values, 'email'), role, Date.now()))
      print(
        values,
        { team: { id: result.team.id, name: result.team.name }, user: { id: result.user.id, email: result.user.email }, role: result.role },
        `${result.user.email} is now ${result.role} of team "${result.team.name}"`,
      )
    },
  },

  'teams remove-member': {
    usage: 'gatehouse teams remove-member --team T --email E [--json]',
    options: { team: { type: 'string' }, email: { type: 'string' }, ...json },
    async run(values) {
      const { team, user, revoked } = await withDatabase((db) => removeMember(db, required(values, 'team'), required(values, 'email'), Date.now()))
      print(
        values,
        {
          team: { id: team.id, name: team.name },
          user: { id: user.id, email: user.email },
          revoked: { grants: revoked.grants, personal_access_tokens: revoked.personalAccessTokens },
        },
        `${user.email} is no longer a member of team "${team.name}": ${revoked.grants} app authorisation(s) with their tokens and ` +
          `${revoked.personalAccessTokens} personal access token(s) in the team revoked. Adding the user again restores none of them.`,
      )
    },
  },

  'clients create': {
    usage:
      'gatehouse clients create --owner E --name N --redirect-uri U [--redirect-uri U2 …] [--team T] [--first-party] [--skip-consent] [--public]' +
      ' [--post-logout-redirect-uri U …] [--backchannel-logout-uri U] [--json]',
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
      'backchannel-logout-uri': 'a URL that is sent a logout token when a session that signed in to the client ends',
      json: 'print the result as JSON',
    },
    async run(values) {
      const owner = required(values, 'owner')
      const name = required(values, 'name')
      const redirectUris = (values['redirect-uri'] as string[] | undefined) ?? []
      if (redirectUris.length === 0) throw new UsageError('--redirect-uri is required (once per URL)')
      const { client, secret } = await withContext(async (ctx) => {
        const { user, team } = await userInTeam(ctx.db, owner, optional(values, 'team'))
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
            postLogoutRedirectUris: (values['post-logout-redirect-uri'] as string[] | undefined) ?? [],
            backchannelLogoutUri: optional(values, 'backchannel-logout-uri'),
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

  'resources create': {
    usage: 'gatehouse resources create --uri U --name N [--scope S …] [--json]',
    options: { uri: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string', multiple: true }, ...json },
    async run(values) {
      const input = { uri: required(values, 'uri'), name: required(values, 'name'), scopes: (values.scope as string[] | undefined) ?? [] }
      const resource = await withDatabase((db) => createResource(db, loadConfig().issuer, input, Date.now()))
      print(values, resourceJson(resource), `Registered resource "${resource.name}" at ${resource.uri}`)
    },
  },

  'resources list': {
    usage: 'gatehouse resources list [--json]',
    options: json,
    async run(values) {
      const resources = await withDatabase((db) => listResources(db, loadConfig().issuer))
      print(
        values,
        resources.map(resourceJson),
        resources.map((r) => `${r.uri}  ${r.name}${r.scopes.length > 0 ? `  scopes: ${r.scopes.join(' ')}` : ''}`).join('\n'),
      )
    },
  },

  'resources delete': {
    usage: 'gatehouse resources delete --uri U [--json]',
    options: { uri: { type: 'string' }, ...json },
    async run(values) {
      const uri = required(values, 'uri')
      await withDatabase((db) => deleteResource(db, loadConfig().issuer, uri))
      print(values, { uri, deleted: true }, `Deleted resource ${uri}; no new token is issued for it`)
    },
  },

  'registration-tokens create': {
    usage: 'gatehouse registration-tokens create [--expires-in S] [--json]',
    options: { 'expires-in': { type: 'string' }, ...json },
    async run(values) {
      const raw = optional(values, 'expires-in') ?? '86400'
      if (!/^\d+$/.test(raw)) throw new UsageError('--expires-in is a number of seconds')
      const { token, expiresAt } = await withDatabase((db) => createRegistrationToken(db, Number(raw), Date.now()))
      print(
        values,
        { registration_token: token, expires_at: expiresAt.toISOString() },
        `Initial access token for client registration (until ${expiresAt.toISOString()}):\n  ${token}\nIt is shown only once.`,
      )
    },
  },

  'keys rotate': {
    usage: 'gatehouse keys rotate [--json]',
    options: json,
    async run(values) {
      const kid = await withContext((ctx) => rotateSigningKey(ctx.db, ctx.keys.encryption, ctx.config.signingAlg, Date.now()))
      print(values, { kid }, `New signing key ${kid}; older keys stay published until the tokens they signed expire`)
    },
  },

  'tokens prune': {
    usage: 'gatehouse tokens prune [--json]',
    options: json,
    async run(values) {
      const counts = await withContext((ctx) => pruneExpired(ctx))
      print(
        values,
        { deleted: counts },
        `Deleted ${Object.entries(counts)
          .map(([what, n]) => `${n} ${what.replaceAll('_', ' ')}`)
          .join(', ')}`,
      )
    },
  },
}

/** SIGTERM or SIGINT: stop taking requests, finish those in flight, close pools, exit 0. */
function onStop(stop: () => Promise<void>): void {
  const handler = () => {
    // The server cuts lingering connections after its grace period; should
    // closing the pools hang as well, the process still ends.
    setTimeout(() => {
      process.stderr.write('gatehouse: shutdown did not finish in time; exiting\n')
      process.exit(1)
    }, SHUTDOWN_GRACE_MS + 5_000).unref()
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', handler)
  process.once('SIGINT', handler)
}

function help(): string {
  return ['Usage:', ...Object.values(commands).map((c) => `  ${c.usage}`)].join('\n')
}

/** `gatehouse <command> --help`: the usage line and every option. */
function commandHelp(command: Command): string {
  const lines = Object.entries(command.options).map(([name, option]) => {
    const flag = `--${name}${option.type === 'string' ? ' VALUE' : ''}`
    return `  ${flag.padEnd(34)} ${command.describe?.[name] ?? ''}`.trimEnd()
  })
  return [`Usage: ${command.usage}`, '', 'Options:', ...lines, `  ${'--help'.padEnd(34)} print this help`].join('\n')
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`
  if (commands[two]) return { command: commands[two], rest: argv.slice(2) }
  const one = argv[0]
  if (one !== undefined && commands[one]) return { command: commands[one], rest: argv.slice(1) }
  return undefined
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write(help() + '\n')
    return argv.length === 0 ? 2 : 0
  }
  const found = findCommand(argv)
  try {
    if (!found) throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}"`)
    if (found.rest.includes('--help')) {
      process.stdout.write(commandHelp(found.command) + '\n')
      return 0
    }
    let values: Values
    try {
      values = parseArgs({ args: found.rest, options: found.command.options, strict: true, allowPositionals: false }).values as Values
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    await found.command.run(values)
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gatehouse: ${err.message}\n${found ? `Usage: ${found.command.usage}` : help()}\n`)
      return 2
    }
    if (err instanceof Refusal || err instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${err.message}\n`)
      return 1
    }
    throw err
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code)
  },
  (err: unknown) => {
    process.stderr.write(`gatehouse: ${(err as Error).message ?? String(err)}\n`)
    process.exit(1)
  },
)
