import { sql, type Kysely } from 'kysely'
import type { DialectName } from '../connection.js'

// Written out, not imported: a migration stays as it ran. The channel's
// name for the running code is REVOCATION_CHANNEL in db/revocations.ts.
const CHANNEL = 'gatehouse_revoked'

/** Each write that can end a token's standing, as [table, holder column, event, rows that matter]. */
const WATCHED = [
  ['access_tokens', 'user_id', 'update', 'revoked_at is not null'],
  ['access_tokens', 'user_id', 'delete', 'true'],
  ['users', 'id', 'update', 'true'],
  ['users', 'id', 'delete', 'true'],
  ['memberships', 'user_id', 'update', 'true'],
  ['memberships', 'user_id', 'delete', 'true'],
  ['personal_access_tokens', 'user_id', 'delete', 'true'],
] as const

/**
 * Every statement that revokes a token, disables or changes a
 * user, or removes a member notifies the users concerned on
 * `gatehouse_revoked` when its transaction commits, whichever process (a
 * server, a worker, the command line) wrote it, so every server's cache of
 * verified tokens forgets them at once. One notice per statement; past
 * PostgreSQL's payload limit it says `*`, everyone. SQLite has no such
 * channel: the same writes count up `revocation_epoch`, which a server reads
 * (in memory, without I/O) before answering from its cache, and so sees
 * what any connection wrote, its own and other processes'.
 */
export function revocationNotices(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'sqlite') {
        await sql`create table revocation_epoch (id integer primary key check (id = 1), n integer not null)`.execute(db)
        await sql`insert into revocation_epoch (id, n) values (1, 0)`.execute(db)
        for (const [table, , event, filter] of WATCHED) {
          const when = filter === 'true' ? sql`` : sql`when ${sql.raw(filter.replace('revoked_at', 'new.revoked_at'))}`
          await sql`
            create trigger ${sql.id(`${table}_${event}_revoked_notice`)}
            after ${sql.raw(event)} on ${sql.table(table)} ${when}
            begin update revocation_epoch set n = n + 1; end`.execute(db)
        }
        return
      }
      await sql`
        create function gatehouse_revoked_notice() returns trigger language plpgsql as $$
        declare holders text;
        begin
          execute format('select string_agg(distinct %I::text, '','') from changed where %s', tg_argv[0], tg_argv[1]) into holders;
          if holders is not null then
            perform pg_notify(${sql.lit(CHANNEL)}, case when length(holders) > 7000 then '*' else holders end);
          end if;
          return null;
        end $$`.execute(db)
      for (const [table, holder, event, filter] of WATCHED) {
        const side = event === 'update' ? 'new' : 'old'
        await sql`
          create trigger ${sql.id(`${table}_${event}_revoked_notice`)}
          after ${sql.raw(event)} on ${sql.table(table)}
          referencing ${sql.raw(side)} table as changed
          for each statement execute function gatehouse_revoked_notice(${sql.lit(holder)}, ${sql.lit(filter)})`.execute(db)
      }
    },
  }
}
