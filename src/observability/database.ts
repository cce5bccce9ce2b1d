import type { StatementObserver, StatementRun } from '../db/connection.js'
import { dbStatementDuration } from './metrics.js'
import { isTracing, recordFinishedSpan } from './tracing.js'

const KINDS = ['select', 'insert', 'update', 'delete', 'transaction', 'other'] as const
type Kind = (typeof KINDS)[number]

const byKind = Object.fromEntries(KINDS.map((kind) => [kind, dbStatementDuration.labels({ kind })])) as Record<
  Kind,
  ReturnType<typeof dbStatementDuration.labels>
>

/** The statement's kind from its first word; Kysely writes them lower-case. */
function kindOf(sql: string): Kind {
  switch (sql.slice(0, 6)) {
    case 'select':
      return 'select'
    case 'insert':
      return 'insert'
    case 'update':
      return 'update'
    case 'delete':
      return 'delete'
    case 'begin':
    case 'begin ':
    case 'commit':
    case 'rollba':
    case 'savepo':
    case 'releas':
      return 'transaction'
    default:
      return 'other'
  }
}

/**
 * Times every statement into the histogram by kind and, while tracing, adds
 * a span for it under the request's. The SQL is Kysely's, with placeholders
 * for every value, so the span's text carries no parameter.
 */
export function observeStatements(dialect: 'sqlite' | 'postgres'): StatementObserver {
  const system = dialect === 'sqlite' ? 'sqlite' : 'postgresql'
  return ({ sql, durationMs, failed }: StatementRun) => {
    const kind = kindOf(sql)
    byKind[kind].observe(durationMs / 1000)
    if (isTracing()) recordFinishedSpan(kind, durationMs, { 'db.system.name': system, 'db.operation.name': kind, 'db.query.text': sql }, failed)
  }
}
