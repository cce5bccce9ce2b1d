import { CompiledQuery, type Compilable, type Kysely } from 'kysely'
import type { Database } from './schema.js'

/**
 * A query built and compiled once per database, then run with new
 * parameters: for the few queries on every API request, where building the
 * query would cost more than running it. `build` must use its argument as
 * the query's only parameter.
 */
export function compiledOnce<Row>(build: (db: Kysely<Database>, parameter: string) => Compilable<Row>) {
  const compiled = new WeakMap<Kysely<Database>, string>()
  return async (db: Kysely<Database>, parameter: string): Promise<Row | undefined> => {
    let text = compiled.get(db)
    if (text === undefined) {
      const query = build(db, parameter).compile()
      if (query.parameters.length !== 1) throw new Error('compiledOnce queries take exactly one parameter')
      text = query.sql
      compiled.set(db, text)
    }
    const result = await db.executeQuery<Row>(CompiledQuery.raw(text, [parameter]))
    return result.rows[0]
  }
}
