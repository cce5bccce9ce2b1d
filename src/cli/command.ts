import type { ParseArgsConfig } from 'node:util'
import type { AppContext } from '../context.js'
import type { Db } from '../db/connection.js'
import { loadConfig } from '../config.js'
import { closeContext, createLogger, openContext, openMigratedDatabase } from '../server.js'

/** A mistake in how the command was called: message, usage hint, exit 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | string[] | undefined>

export interface Command {
  usage: string
  options: Options
  /** What each option does, for `--help`. */
  describe?: Record<string, string>
  run(values: Values): Promise<void>
}

/** Commands by the words that name them (`serve`, `users create`), in the order `--help` lists them. */
export type Commands = Record<string, Command>

export const json = { json: { type: 'boolean' } } as const

export function required(values: Values, name: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`)
  return value
}

export function optional(values: Values, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/** Every value of a repeatable option, none when it is not given. */
export function repeated(values: Values, name: string): string[] {
  return (values[name] as string[] | undefined) ?? []
}

/** `--json` prints the data on one line; otherwise the sentence a person reads. */
export function print(values: Values, data: unknown, line: string): void {
  process.stdout.write(values.json ? JSON.stringify(data) + '\n' : line + '\n')
}

export async function withDatabase<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const db = await openMigratedDatabase(loadConfig())
  try {
    return await work(db)
  } finally {
    await db.close()
  }
}

export async function withContext<T>(work: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(loadConfig(), createLogger(false))
  try {
    return await work(ctx)
  } finally {
    await closeContext(ctx)
  }
}
