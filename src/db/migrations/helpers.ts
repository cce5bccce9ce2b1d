import type { ColumnDefinitionBuilder } from 'kysely'
import type { DialectName } from '../connection.js'

export type ColumnBuilder = (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder

/** An auto-numbered primary key: SQLite's rowid alias, PostgreSQL's identity column. */
export function idColumn(dialect: DialectName): { type: 'integer' | 'bigint'; build: ColumnBuilder } {
  return dialect === 'sqlite'
    ? { type: 'integer', build: (col) => col.primaryKey().autoIncrement() }
    : { type: 'bigint', build: (col) => col.primaryKey().generatedByDefaultAsIdentity() }
}

/** Integer columns that may exceed 2^31 (epoch milliseconds, foreign keys to bigint ids). */
export const BIG = 'bigint' as const
