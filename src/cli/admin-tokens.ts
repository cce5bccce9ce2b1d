import { adminTokens, createAdminToken, revokeAdminToken, type AdminToken } from '../tokens/admin-tokens.js'
import { json, optional, print, required, UsageError, withDatabase, type Commands } from './command.js'

function adminTokenJson(token: AdminToken) {
  return {
    id: token.id,
    name: token.name,
    scope: token.scope,
    created_at: token.createdAt.toISOString(),
    expires_at: token.expiresAt?.toISOString() ?? null,
    revoked_at: token.revokedAt?.toISOString() ?? null,
    last_used_at: token.lastUsedAt?.toISOString() ?? null,
  }
}

export const adminTokenCommands: Commands = {
  'admin-tokens create': {
    usage: 'gatehouse admin-tokens create --name N --scope admin:read|admin:write [--expires-in S] [--json]',
    options: { name: { type: 'string' }, scope: { type: 'string' }, 'expires-in': { type: 'string' }, ...json },
    describe: {
      name: 'what the token is for; the activity log names every admin call by it',
      scope: 'admin:read (list and read) or admin:write (read and change)',
      'expires-in': 'seconds until the token stops working (default: until revoked)',
      json: 'print the result as JSON',
    },
    async run(values) {
      const raw = optional(values, 'expires-in')
      if (raw !== undefined && !/^\d{1,9}$/.test(raw)) throw new UsageError('--expires-in is a number of seconds')
      const input = { name: required(values, 'name'), scope: required(values, 'scope'), expiresInSeconds: raw === undefined ? undefined : Number(raw) }
      const { token, record } = await withDatabase((db) => createAdminToken(db, input, Date.now()))
      print(
        values,
        { ...adminTokenJson(record), token },
        `Admin token "${record.name}" (${record.scope}, id ${record.id})${record.expiresAt ? `, valid until ${record.expiresAt.toISOString()}` : ''}:\n  ${token}\n` +
          'It is shown only once. It works only on /admin/v1.',
      )
    },
  },

  'admin-tokens list': {
    usage: 'gatehouse admin-tokens list [--json]',
    options: json,
    async run(values) {
      const tokens = await withDatabase((db) => adminTokens(db))
      print(
        values,
        tokens.map(adminTokenJson),
        tokens.length === 0
          ? 'No admin tokens'
          : tokens
              .map((t) => `${t.id}  ${t.name}  ${t.scope}${t.revokedAt ? '  (revoked)' : t.expiresAt ? `  until ${t.expiresAt.toISOString()}` : ''}`)
              .join('\n'),
      )
    },
  },

  'admin-tokens revoke': {
    usage: 'gatehouse admin-tokens revoke --id ID [--json]',
    options: { id: { type: 'string' }, ...json },
    async run(values) {
      const token = await withDatabase((db) => revokeAdminToken(db, required(values, 'id'), Date.now()))
      print(values, adminTokenJson(token), `Revoked admin token "${token.name}" (id ${token.id}); it no longer works`)
    },
  },
}
