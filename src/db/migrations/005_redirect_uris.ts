import type { Kysely } from 'kysely'

interface Tables {
  clients: { id: string; team_id: number; owner_user_id: number; redirect_uris: string; updated_at: number }
  activities: { team_id: number; user_id: number; client_id: string; action: string; detail: string; address: null; created_at: number }
}

// The registration rule as it stood when this migration was written, copied
// and frozen: a migration must do the same thing on every database it ever
// runs on, whatever the live rule later becomes.
const UNSAFE_CHARACTERS = /[\u0000-\u0020\u007f-\u009f]/
const HAS_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]/i
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])

function isRegistrable(uri: string): boolean {
  if (uri.trim() === '' || uri.length > 2000 || UNSAFE_CHARACTERS.test(uri) || uri.includes('#') || !HAS_AUTHORITY.test(uri)) return false
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return false
  }
  if (url.username !== '' || url.password !== '') return false
  if (url.protocol === 'http:' ? !LOOPBACK_HOSTS.has(url.hostname) : url.protocol !== 'https:') return false
  return url.href === uri
}

/**
 * Redirect URLs registered before registration refused the ones that can be
 * read two ways (control characters, spaces, no host, anything the URL
 * parser rewrites) are taken off their client. The client stays; each
 * removal is written to its team's activity log, URL included, so its owner
 * can register it again in a form that passes.
 */
export function redirectUris() {
  return {
    async up(untyped: Kysely<unknown>): Promise<void> {
      const db = untyped as unknown as Kysely<Tables>
      const now = Date.now()
      const clients = await db.selectFrom('clients').select(['id', 'team_id', 'owner_user_id', 'redirect_uris']).execute()
      for (const client of clients) {
        const uris = JSON.parse(client.redirect_uris) as string[]
        const kept = uris.filter(isRegistrable)
        if (kept.length === uris.length) continue
        await db
          .updateTable('clients')
          .set({ redirect_uris: JSON.stringify(kept), updated_at: now })
          .where('id', '=', client.id)
          .execute()
        for (const removed of uris.filter((uri) => !kept.includes(uri))) {
          await db
            .insertInto('activities')
            .values({
              team_id: client.team_id,
              user_id: client.owner_user_id,
              client_id: client.id,
              action: 'client.redirect_uri_removed',
              // JSON-quoted, so control characters in it show as \r, \n, \t.
              detail: JSON.stringify(removed).slice(0, 500),
              address: null,
              created_at: now,
            })
            .execute()
        }
      }
    },
  }
}
