import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { randomBytes } from 'node:crypto'
import type { DialectName } from '../db/connection.js'

export const DIALECTS: DialectName[] = ['sqlite', 'postgres']

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

export function postgresBaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES_URL
}

let postgresCheck: Promise<string | undefined> | undefined

/**
 * Why the PostgreSQL suite cannot run here, or undefined when it can. Under
 * CI=true, or when TEST_DATABASE_URL is set, an unreachable server is a
 * failure rather than a reason to skip.
 */
export function postgresSkipReason(): Promise<string | undefined> {
  postgresCheck ??= (async () => {
    const client = new pg.Client({ connectionString: postgresBaseUrl(), connectionTimeoutMillis: 3000 })
    try {
      await client.connect()
      await client.end()
      return undefined
    } catch (err) {
      const message = `PostgreSQL at ${postgresBaseUrl()} is unreachable: ${(err as Error).message}`
      if (process.env.CI === 'true' || process.env.TEST_DATABASE_URL) throw new Error(message, { cause: err })
      return `${message} (set TEST_DATABASE_URL to run the PostgreSQL suite)`
    }
  })()
  return postgresCheck
}

export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

/** A database of its own for one test file: a temporary SQLite file, or a new PostgreSQL database. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'))
    return { url: `sqlite:${join(dir, 'test.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: postgresBaseUrl() })
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(postgresBaseUrl())
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: postgresBaseUrl() })
      await client.connect()
      try {
        await client.query(`drop database if exists ${name} with (force)`)
      } finally {
        await client.end()
      }
    },
  }
}
