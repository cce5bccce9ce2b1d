import type { Db } from './connection.js'
import { numbered, runNumbered } from './prepared.js'
import { announceRevoked } from './revocations.js'
import { revokeGrants } from './tokens.js'

/*
 * On PostgreSQL a grant's family ends in one statement: a recursive query
 * finds the grant and every grant exchanged from it (RFC 8693), and three
 * data-modifying CTEs end the grants and their tokens. One statement is
 * all or nothing, in one round trip instead of six (begin, three updates,
 * the children, commit). The family reaches the updates as one array, so
 * each is an index scan whatever the planner guesses of the family's size.
 */
const REVOKE_FAMILY = numbered(`
  with recursive family(id) as (
    select $grant::text
    union
    select g.id from grants g join family f on g.parent_grant_id = f.id
  ),
  ended as (
    update grants set revoked_at = $now::bigint
    where id = any(array(select id from family)) and revoked_at is null
    returning 1
  ),
  holders as (
    update access_tokens set revoked_at = $now::bigint
    where grant_id = any(array(select id from family)) and revoked_at is null
    returning user_id
  ),
  refresh as (
    update refresh_tokens set revoked_at = $now::bigint
    where grant_id = any(array(select id from family)) and revoked_at is null
  )
  select (select count(*)::int from ended) as ended, array(select distinct user_id from holders) as holders`)

/**
 * Ends one grant and every token descending from it, exchanged tokens
 * included (see revokeGrants); returns how many grants it ended. On SQLite,
 * where a statement costs no round trip, in a transaction.
 */
export async function revokeGrantFamily(db: Db, grantId: string, now: number): Promise<number> {
  if (db.dialect === 'sqlite') return db.kysely.transaction().execute((trx) => revokeGrants(trx, { grantId }, now))
  const [row] = await runNumbered<{ ended: number; holders: string[] }>(db.kysely, REVOKE_FAMILY, { grant: grantId, now })
  // The driver reads a bigint array as text.
  announceRevoked(db.kysely, row!.holders.map(Number))
  return row!.ended
}
