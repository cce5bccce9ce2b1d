import type { Kysely } from 'kysely'
import { BIG } from './helpers.js'

/**
 * What a person needs to tell their sessions apart: the browser's
 * User-Agent and the address it came from (both as sent, at login and then
 * at most once a minute), and when the session was last used. Sessions that
 * began before this have none of them until their next use.
 */
export function sessionsClient() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('sessions').addColumn('user_agent', 'text').execute()
      await db.schema.alterTable('sessions').addColumn('address', 'text').execute()
      await db.schema.alterTable('sessions').addColumn('last_active_at', BIG).execute()
    },
  }
}
