import { loadConfig } from '../config.js'
import { createResource, deleteResource, listResources } from '../resources/resources.js'
import type { Resource } from '../resources/types.js'
import { json, print, repeated, required, withDatabase, type Commands } from './command.js'

function resourceJson(resource: Resource) {
  return { uri: resource.uri, name: resource.name, scopes: resource.scopes }
}

export const resourceCommands: Commands = {
  'resources create': {
    usage: 'gatehouse resources create --uri U --name N [--scope S …] [--json]',
    options: { uri: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string', multiple: true }, ...json },
    async run(values) {
      const input = { uri: required(values, 'uri'), name: required(values, 'name'), scopes: repeated(values, 'scope') }
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
}
