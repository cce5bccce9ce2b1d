import type { Kysely, Transaction } from 'kysely'
import type { Database } from './schema.js'

/** What a repository function runs its SQL on: the database, or a transaction a service opened. */
export type Executor = Kysely<Database> | Transaction<Database>
