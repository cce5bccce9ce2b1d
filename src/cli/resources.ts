import { loadConfig } from '../config.js'
import { createResource, deleteResource, listResources } from '../resources/resources.js'
import type { Resource } from '../resources/types.js'
import { json, print, repeated, required, UsageError, withDatabase, type Commands, type Values } from './command.js'

/**
 * The issuer names Gatehouse's own API; the command reads it from the same
 * settings as the server, and says which, since a shell without them gets
 * the default port rather than the server's.
 */
function issuerLine(issuer: string, env: NodeJS.ProcessEnv = process.env): string {
  const source = env.GATEHOUSE_ISSUER
    ? 'from GATEHOUSE_ISSUER'
    : env.PORT
      ? 'from PORT, as GATEHOUSE_ISSUER is not set'
      : 'the default, as neither GATEHOUSE_ISSUER nor PORT is set; set them as the server has them'
  return `Issuer: ${issuer} (${source})`
}

function resourceJson(resource: Resource) {
  return { uri: resource.uri, name: resource.name, scopes: resource.scopes, scope_descriptions: resource.scopeDescriptions }
}

/** `--scope-description notes="Read and change your notes"`, once per scope: what the consent page says the scope lets an app do. */
function scopeDescriptions(values: Values): Record<string, string> {
  const descriptions: Record<string, string> = {}
  for (const given of repeated(values, 'scope-description')) {
    const at = given.indexOf('=')
    if (at <= 0) throw new UsageError(`--scope-description "${given}" must be SCOPE=DESCRIPTION, as in notes="Read and change your notes"`)
    descriptions[given.slice(0, at)] = given.slice(at + 1)
  }
  return descriptions
}

export const resourceCommands: Commands = {
  'resources create': {
    usage: 'gatehouse resources create --uri U --name N [--scope S …] [--scope-description S=WORDS …] [--json]',
    options: {
      uri: { type: 'string' },
      name: { type: 'string' },
      scope: { type: 'string', multiple: true },
      'scope-description': { type: 'string', multiple: true },
      ...json,
    },
    describe: {
      'scope-description': 'What a scope lets an app do, in words the consent page shows people, as in notes="Read and change your notes"; once per scope.',
    },
    async run(values) {
      const input = {
        uri: required(values, 'uri'),
        name: required(values, 'name'),
        scopes: repeated(values, 'scope'),
        scopeDescriptions: scopeDescriptions(values),
      }
      const resource = await withDatabase((db) => createResource(db, loadConfig().issuer, input, Date.now()))
      print(values, resourceJson(resource), `Registered resource "${resource.name}" at ${resource.uri}`)
    },
  },

  'resources list': {
    usage: 'gatehouse resources list [--json]',
    options: json,
    async run(values) {
      const { issuer } = loadConfig()
      const resources = await withDatabase((db) => listResources(db, issuer))
      print(
        values,
        resources.map(resourceJson),
        [issuerLine(issuer), ...resources.map((r) => `${r.uri}  ${r.name}${r.scopes.length > 0 ? `  scopes: ${r.scopes.join(' ')}` : ''}`)].join('\n'),
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
}
