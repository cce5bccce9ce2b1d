import { CompiledQuery } from 'kysely'
import type { Executor } from './executor.js'

/**
 * The SQL texts of the hot-path statements, each with the name PostgreSQL
 * prepares it under: a named statement is parsed and planned once per
 * connection instead of on every run. Only these few fixed texts are named,
 * so the statements a connection keeps stay few.
 */
const names = new Map<string, string>()

export function markPrepared(sqlText: string): void {
  if (!names.has(sqlText)) names.set(sqlText, `gatehouse_${names.size + 1}`)
}

export function preparedName(sqlText: string): string | undefined {
  return names.get(sqlText)
}

/** A statement written with named placeholders (`$now`), and the name each numbered one stands for. */
export interface NumberedStatement {
  sql: string
  names: string[]
}

/** Named placeholders, numbered once: the SQL stays readable and its text fixed, so it is prepared once. */
export function numbered(text: string): NumberedStatement {
  const names: string[] = []
  const sql = text.replace(/\$([a-z][a-z0-9]*)/g, (_, name: string) => {
    if (!names.includes(name)) names.push(name)
    return `$${names.indexOf(name) + 1}`
  })
  markPrepared(sql)
  return { sql, names }
}

export async function runNumbered<Row>(db: Executor, statement: NumberedStatement, values: Record<string, unknown>): Promise<Row[]> {
  const result = await db.executeQuery<Row>(
    CompiledQuery.raw(
      statement.sql,
      statement.names.map((name) => values[name]),
    ),
  )
  return result.rows
}
