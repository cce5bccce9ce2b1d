import type { Kysely, Selectable } from 'kysely'
import { compiledOnce } from './compiled.js'
import type { Executor } from './executor.js'
import type { Database } from './schema.js'

type Camel<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S

/** A row under the names the application gives its columns: `grant_id` is `grantId`. */
export type Fields<Row> = { [C in keyof Row & string as Camel<C>]: Row[C] }

type Prefixed<Row, P extends string> = { [C in keyof Row & string as `${P}${C}`]: Row[C] }

type Aliased<Row, A extends string, P extends string> = { [C in keyof Row & string]: `${A}.${C} as ${P}${C}` }[keyof Row & string]

/** How PostgreSQL reads a parameter of a statement written by hand: it cannot infer one in `insert … select`. */
type ParameterType = 'text' | 'bigint'

function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())
}

/**
 * A table's columns, listed once: every statement that writes or reads the
 * whole row (the Kysely inserts, the hand-written PostgreSQL issuance, the
 * joined reads) takes its column list from here, so a new column is one
 * edit and cannot be forgotten in one of them.
 */
export class Columns<T extends keyof Database> {
  private readonly names: readonly string[]
  private readonly fields: readonly string[]

  constructor(
    readonly table: T,
    private readonly types: { [C in keyof Selectable<Database[T]>]-?: ParameterType },
  ) {
    this.names = Object.keys(types)
    this.fields = this.names.map(camel)
  }

  read(row: Selectable<Database[T]>): Fields<Selectable<Database[T]>> {
    return this.readPrefixed('', row as unknown as Prefixed<Selectable<Database[T]>, ''>)
  }

  /** The row out of a join that selected it as `prefix` + column (see `selectAs`). */
  readPrefixed<P extends string>(prefix: P, row: Prefixed<Selectable<Database[T]>, P>): Fields<Selectable<Database[T]>> {
    const source = row as Record<string, unknown>
    const record: Record<string, unknown> = {}
    for (let i = 0; i < this.names.length; i++) record[this.fields[i]!] = source[prefix + this.names[i]!]
    return record as Fields<Selectable<Database[T]>>
  }

  /** The row's columns for a join: `alias.column as prefix_column`, so they cannot clash with the other table's. */
  selectAs<A extends string, P extends string>(alias: A, prefix: P): Aliased<Selectable<Database[T]>, A, P>[] {
    return this.names.map((name) => `${alias}.${name} as ${prefix}${name}`) as never
  }

  /** One insert of the whole row, built once and prepared (see `compiledOnce`). */
  inserter(): (db: Executor, record: Fields<Selectable<Database[T]>>) => Promise<void> {
    const statement = compiledOnce((db, ...values: unknown[]) =>
      // Kysely cannot follow a table picked at run time; the names are the table's own.
      (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .insertInto(this.table)
        .values(Object.fromEntries(this.names.map((name, i) => [name, values[i]]))),
    )
    return async (db, record) => {
      await statement(db, ...this.values(record))
    }
  }

  /**
   * `insert into … select …` for a hand-written PostgreSQL statement, each
   * value a named parameter `$<prefix><n>` (see `parameters`); the caller
   * adds the condition.
   */
  insertSelect(prefix: string): string {
    const values = this.names.map((_, i) => `$${prefix}${i + 1}::${this.types[this.names[i] as keyof typeof this.types]}`)
    return `insert into ${this.table} (${this.names.join(', ')}) select ${values.join(', ')}`
  }

  /** The values of `insertSelect(prefix)`'s parameters. */
  parameters(prefix: string, record: Fields<Selectable<Database[T]>>): Record<string, unknown> {
    const values = this.values(record)
    return Object.fromEntries(values.map((value, i) => [`${prefix}${i + 1}`, value]))
  }

  private values(record: Fields<Selectable<Database[T]>>): unknown[] {
    const source = record as Record<string, unknown>
    return this.fields.map((field) => source[field])
  }
}
