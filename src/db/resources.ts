import type { Selectable } from 'kysely'
import type { Resource } from '../resources/types.js'
import type { Executor } from './executor.js'
import type { ResourceTable } from './schema.js'

function toResource(row: Selectable<ResourceTable>): Resource {
  return {
    uri: row.uri,
    name: row.name,
    scopes: row.scopes === '' ? [] : row.scopes.split(' '),
    scopeDescriptions: JSON.parse(row.scope_descriptions) as Record<string, string>,
    builtIn: false,
  }
}

/** Inserts the resource; false when one with this URI exists already. */
export async function insertResource(db: Executor, resource: Pick<Resource, 'uri' | 'name' | 'scopes' | 'scopeDescriptions'>, now: number): Promise<boolean> {
  const inserted = await db
    .insertInto('resources')
    .values({
      uri: resource.uri,
      name: resource.name,
      scopes: resource.scopes.join(' '),
      scope_descriptions: JSON.stringify(resource.scopeDescriptions),
      created_at: now,
    })
    .onConflict((oc) => oc.column('uri').doNothing())
    .returning('uri')
    .executeTakeFirst()
  return inserted !== undefined
}

export async function listResourceRows(db: Executor): Promise<Resource[]> {
  const rows = await db.selectFrom('resources').selectAll().orderBy('uri').execute()
  return rows.map(toResource)
}

export async function findResourcesByUri(db: Executor, uris: string[]): Promise<Resource[]> {
  if (uris.length === 0) return []
  const rows = await db.selectFrom('resources').selectAll().where('uri', 'in', uris).execute()
  return rows.map(toResource)
}

export async function deleteResourceRow(db: Executor, uri: string): Promise<boolean> {
  const result = await db.deleteFrom('resources').where('uri', '=', uri).executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}
