import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely'
import type { Executor } from './executor.js'
import type { Database } from './schema.js'
import { markPrepared } from './prepared.js'

interface Compiled {
  sql: string
  /** For each placeholder of the SQL, which argument it takes. */
  order: number[]
}

/**
 * A query built and compiled once per dialect, then run with new
 * parameters: for the queries of every API and token request, where
 * building the query would cost more than running it. `build` receives
 * stand-ins for its parameters and must pass each to the query as a value
 * (nothing may depend on a parameter's content). On PostgreSQL the statement
 * is also prepared once per connection.
 */
export function compiledOnce<Row, Parameters extends unknown[]>(build: (db: Kysely<Database>, ...parameters: Parameters) => Compilable<Row>) {
  // Keyed by the dialect's adapter, which a database and its transactions share.
  const compiled = new WeakMap<object, Compiled>()
  return async (db: Executor, ...parameters: Parameters): Promise<QueryResult<Row>> => {
    const adapter = db.getExecutor().adapter
    let query = compiled.get(adapter)
    if (query === undefined) {
      query = compile(db, build, parameters.length)
      compiled.set(adapter, query)
    }
    return db.executeQuery<Row>(
      CompiledQuery.raw(
        query.sql,
        query.order.map((i) => parameters[i]),
      ),
    )
  }
}

function compile<Parameters extends unknown[]>(
  db: Executor,
  build: (db: Kysely<Database>, ...parameters: Parameters) => Compilable<unknown>,
  count: number,
): Compiled {
  const standIns = Array.from({ length: count }, (_, i) => Object.freeze({ parameter: i }))
  const query = build(db, ...(standIns as unknown as Parameters)).compile()
  const order = query.parameters.map((value) => standIns.indexOf(value as (typeof standIns)[number]))
  if (order.includes(-1)) throw new Error('a compiledOnce query may take only its parameters as values')
  markPrepared(query.sql)
  return { sql: query.sql, order }
}
