import { describe } from 'node:test'
import type { DialectName } from '../db/connection.js'
import { DIALECTS, postgresSkipReason } from './databases.js'

/**
 * Declares the suite once per storage dialect. The PostgreSQL copy is skipped
 * with the reason printed only outside CI when no server can be reached.
 */
export async function forEachDialect(name: string, suite: (dialect: DialectName) => void): Promise<void> {
  for (const dialect of DIALECTS) {
    const skip = dialect === 'postgres' ? await postgresSkipReason() : undefined
    if (skip) process.stdout.write(`skipping ${name} on postgres: ${skip}\n`)
    describe(`${name} [${dialect}]`, { skip: skip ?? false }, () => suite(dialect))
  }
}
