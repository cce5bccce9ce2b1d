import { sql, type Kysely } from 'kysely'
import type { DialectName } from '../connection.js'

// Written out, not imported: a migration stays as it ran.
const CHANNEL = 'gatehouse_revoked'

/**
 * PostgreSQL's revocation notices (migration 014) say when they were
 * written: `<milliseconds since 1970>;<holders>`, so a process can tell how
 * late a notice reached it. A process of an earlier release reads such a
 * notice as one it cannot parse, and forgets every token, which is safe.
 * SQLite has no notices.
 */
export function revocationNoticeTime(dialect: DialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'sqlite') return
      await sql`
        create or replace function gatehouse_revoked_notice() returns trigger language plpgsql as $$
        declare holders text;
        begin
          execute format('select string_agg(distinct %I::text, '','') from changed where %s', tg_argv[0], tg_argv[1]) into holders;
          if holders is not null then
            perform pg_notify(
              ${sql.lit(CHANNEL)},
              floor(extract(epoch from clock_timestamp()) * 1000)::bigint::text || ';' || case when length(holders) > 7000 then '*' else holders end
            );
          end if;
          return null;
        end $$`.execute(db)
    },
  }
}
