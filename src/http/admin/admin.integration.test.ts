import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { countUsers } from '../../db/users.js'
import { createAdminToken } from '../../tokens/admin-tokens.js'
import { createPersonalAccessToken } from '../../tokens/personal-access-tokens.js'
import { pruneExpired } from '../../tokens/prune.js'
import { hasFactor } from '../../accounts/factors.js'
import { enrolApp } from '../../testing/totp.js'
import { forEachDialect } from '../../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { browserFor, codeFor, redeemCode } from '../../testing/oauth.js'
import { callChecked, OpenApiChecker, type Answer } from '../../testing/openapi.js'
import { startTestServer, type TestServer } from '../../testing/server.js'
import { WebhookReceiver } from '../../testing/webhook-receiver.js'

type Json = Record<string, unknown>
type List = { object: 'list'; data: Json[]; has_more: boolean; next_cursor: string | null }

const PROBLEM = /^application\/problem\+json/

function assertProblem(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body))
  assert.match(answer.headers.get('content-type') ?? '', PROBLEM)
  assert.equal(answer.body.type, `urn:gatehouse:problem:${code}`)
  assert.equal(answer.body.status, status)
}

await forEachDialect('admin API', (dialect) => {
  let server: TestServer
  let admin: OpenApiChecker
  let writer: string
  let writerId: string
  let reader: string
  let readerId: string
  let owner: SeededUser
  let receiver: WebhookReceiver

  const call = <T = Json>(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    callChecked<T>(admin, server, method, path, { token: writer, ...options })

  before(async () => {
    receiver = await new WebhookReceiver().start()
    // The receiver is on loopback: an operator allows it as an internal host, as the URL rule says.
    server = await startTestServer(dialect, { webhookAllowedHosts: ['127.0.0.1'] })
    admin = await OpenApiChecker.load(server, '/openapi/admin-v1.json')
    const created = await createAdminToken(server.ctx.db, { name: 'back office', scope: 'admin:write' }, Date.now())
    writer = created.token
    writerId = created.record.id
    const read = await createAdminToken(server.ctx.db, { name: 'support desk', scope: 'admin:read' }, Date.now())
    reader = read.token
    readerId = read.record.id
    owner = await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive Owner', team: 'Acme' })
  })
  after(async () => {
    await server.stop()
    await receiver.close()
  })

  describe('who may call it', () => {
    it('refuses a call without credentials, with a Bearer challenge', async () => {
      const answer = await call('GET', '/admin/v1/users', { token: undefined, headers: {} })
      assertProblem(answer, 401, 'unauthenticated')
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer realm="gatehouse-admin"/)
    })

    it('refuses an OAuth access token and a personal access token: they act for a user, never for the operator', async () => {
      const { id, secret } = await seedClient(server.ctx, owner, { name: 'Portal App' })
      const browser = await browserFor(server, owner.user)
      const code = await codeFor(browser, { client_id: id, redirect_uri: REDIRECT, response_type: 'code', prompt: 'consent' })
      const accessToken = (await redeemCode(server, { id, secret }, code)).access_token
      const { token: pat } = await createPersonalAccessToken(server.ctx.db, { userId: owner.user.id, teamId: owner.team!.id, name: 'ci' }, Date.now())
      for (const token of [accessToken, pat]) {
        const answer = await call('GET', '/admin/v1/users', { token })
        assertProblem(answer, 401, 'invalid_token')
        // The same tokens work on the user's API, so it is the admin API refusing them.
        assert.equal((await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${token}` } })).status, 200)
      }
    })

    it('refuses an admin token on /api/v2: it works nowhere but /admin/v1', async () => {
      const answer = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${writer}` } })
      assert.equal(answer.status, 401)
      assert.equal(((await answer.json()) as Json).error, 'invalid_token')
    })

    it('lets an admin:read token read but not write, and writes nothing for it', async () => {
      assert.equal((await call('GET', '/admin/v1/users', { token: reader })).status, 200)
      const before = await countUsers(server.ctx.db.kysely)
      const answer = await call('POST', '/admin/v1/users', {
        token: reader,
        body: { email: 'ria@example.com', name: 'Ria', password: 'correct horse battery' },
      })
      assertProblem(answer, 403, 'insufficient_scope')
      assert.match(answer.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="admin:write"/)
      assert.equal(await countUsers(server.ctx.db.kysely), before)
    })

    it('refuses a revoked admin token and a made-up one', async () => {
      const { token, record } = await createAdminToken(server.ctx.db, { name: 'short-lived', scope: 'admin:read' }, Date.now())
      assert.equal((await call('GET', '/admin/v1/teams', { token })).status, 200)
      const { revokeAdminToken } = await import('../../tokens/admin-tokens.js')
      await revokeAdminToken(server.ctx.db, record.id, Date.now())
      assertProblem(await call('GET', '/admin/v1/teams', { token }), 401, 'invalid_token')
      assertProblem(await call('GET', '/admin/v1/teams', { token: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A') }), 401, 'invalid_token')
    })

    it('answers an unknown operation with a problem, not a page', async () => {
      assertProblem(await fetchProblem('/admin/v1/nothing-here'), 404, 'not_found')
    })
  })

  async function fetchProblem(path: string): Promise<Answer> {
    const response = await fetch(new URL(path, server.url), { headers: { authorization: `Bearer ${writer}` } })
    return { status: response.status, headers: response.headers, body: (await response.json()) as Json }
  }

  describe('users', () => {
    let userId: number

    it('creates a user once for a retried POST with the same Idempotency-Key, and refuses the key for another body', async () => {
      const body = { email: 'uma@example.com', name: 'Uma User', password: 'correct horse battery', is_verified: true }
      const headers = { 'idempotency-key': 'create-uma-1' }
      const first = await call('POST', '/admin/v1/users', { body, headers })
      assert.equal(first.status, 201)
      assert.equal(first.body.email, 'uma@example.com')
      assert.equal(first.body.is_verified, true)
      userId = first.body.id as number
      assert.equal(first.headers.get('location'), `/admin/v1/users/${userId}`)
      const count = await countUsers(server.ctx.db.kysely)
      const retry = await call('POST', '/admin/v1/users', { body, headers })
      assert.equal(retry.status, 201)
      assert.equal(retry.headers.get('idempotent-replayed'), 'true')
      assert.deepEqual(retry.body, first.body)
      assert.equal(await countUsers(server.ctx.db.kysely), count)
      assertProblem(await call('POST', '/admin/v1/users', { body: { ...body, name: 'Someone Else' }, headers }), 422, 'idempotency_key_reused')
      assert.equal(await countUsers(server.ctx.db.kysely), count)
    })

    it('creates one user when retries race with the same Idempotency-Key', async () => {
      const body = { email: 'race@example.com', name: 'Race', password: 'correct horse battery' }
      const answers = await Promise.all([1, 2, 3, 4].map(() => call('POST', '/admin/v1/users', { body, headers: { 'idempotency-key': 'race-1' } })))
      const created = answers.filter((a) => a.status === 201)
      assert.ok(created.length >= 1)
      for (const answer of answers) if (answer.status !== 201) assertProblem(answer, 409, 'idempotency_key_in_use')
      assert.equal(new Set(created.map((a) => a.body.id)).size, 1)
      const found = await call<List>('GET', '/admin/v1/users?email=race@example.com')
      assert.equal(found.body.data.length, 1)
    })

    it('refuses bad input with a problem and creates nothing', async () => {
      const count = await countUsers(server.ctx.db.kysely)
      assertProblem(await call('POST', '/admin/v1/users', { body: { email: 'x@example.com' } }), 400, 'invalid_request')
      assertProblem(
        await call('POST', '/admin/v1/users', { body: { email: 'not-an-address', name: 'X', password: 'correct horse battery' } }),
        400,
        'email_invalid',
      )
      assertProblem(await call('POST', '/admin/v1/users', { body: { email: 'x@example.com', name: 'X', password: 'short' } }), 400, 'password_too_short')
      assertProblem(
        await call('POST', '/admin/v1/users', { body: { email: 'x@example.com', name: 42, password: 'correct horse battery' } }),
        400,
        'invalid_request',
      )
      assertProblem(
        await call('POST', '/admin/v1/users', { body: { email: 'x@example.com', name: 'X', password: 'correct horse battery', role: 'root' } }),
        400,
        'invalid_request',
      )
      assertProblem(
        await call('POST', '/admin/v1/users', { body: { email: 'uma@example.com', name: 'Uma', password: 'correct horse battery' } }),
        409,
        'email_taken',
      )
      assertProblem(await call('POST', '/admin/v1/users', { body: '{"email":', headers: {} }), 400, 'bad_request')
      assertProblem(
        await call('POST', '/admin/v1/users', { body: 'email=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        415,
        'unsupported_media_type',
      )
      assert.equal(await countUsers(server.ctx.db.kysely), count)
    })

    it('lists users a page at a time, and filters them', async () => {
      for (const n of [1, 2, 3]) await seedUser(server.ctx.db, `page${n}@example.com`)
      const seen: number[] = []
      let cursor: string | null = null
      do {
        const page: Answer<List> = await call<List>('GET', `/admin/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        assert.equal(page.status, 200)
        assert.ok(page.body.data.length <= 2)
        seen.push(...page.body.data.map((u) => u.id as number))
        cursor = page.body.next_cursor
        assert.equal(page.body.has_more, cursor !== null)
      } while (cursor)
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
      )
      assert.equal(new Set(seen).size, await countUsers(server.ctx.db.kysely))
      const one = await call<List>('GET', '/admin/v1/users?email=UMA@example.com')
      assert.deepEqual(
        one.body.data.map((u) => u.id),
        [userId],
      )
      assertProblem(await call('GET', '/admin/v1/users?cursor=abc'), 400, 'cursor_invalid')
      assertProblem(await call('GET', '/admin/v1/users?limit=1000'), 400, 'invalid_request')
    })

    it('gets a user with an ETag, and updates it only while the If-Match still holds', async () => {
      const got = await call('GET', `/admin/v1/users/${userId}`)
      const etag = got.headers.get('etag')!
      assert.match(etag, /^"user-/)
      const renamed = await call('PATCH', `/admin/v1/users/${userId}`, { body: { name: 'Uma Renamed' }, headers: { 'if-match': etag } })
      assert.equal(renamed.status, 200)
      assert.equal(renamed.body.name, 'Uma Renamed')
      assert.notEqual(renamed.headers.get('etag'), etag)
      assertProblem(
        await call('PATCH', `/admin/v1/users/${userId}`, { body: { name: 'Lost Update' }, headers: { 'if-match': etag } }),
        412,
        'precondition_failed',
      )
      assert.equal((await call('GET', `/admin/v1/users/${userId}`)).body.name, 'Uma Renamed')
      assertProblem(await call('PATCH', `/admin/v1/users/${userId}`, { body: { name: '' } }), 400, 'name_required')
      assertProblem(await call('GET', '/admin/v1/users/999999'), 404, 'user_id_not_found')
      assertProblem(await call('GET', '/admin/v1/users/abc'), 400, 'invalid_request')
      assertProblem(await call('PATCH', '/admin/v1/users/999999', { body: { name: 'Nobody' } }), 404, 'user_id_not_found')
    })

    it("lists and revokes a user's personal access tokens, sessions and app authorisations", async () => {
      const user = await seedUser(server.ctx.db, 'gus@example.com', { name: 'Gus', team: 'Gus Team' })
      const { id, secret } = await seedClient(server.ctx, user, { name: 'Gus App' })
      const browser = await browserFor(server, user.user)
      const code = await codeFor(browser, { client_id: id, redirect_uri: REDIRECT, response_type: 'code', prompt: 'consent' })
      const accessToken = (await redeemCode(server, { id, secret }, code)).access_token
      const pat = await createPersonalAccessToken(server.ctx.db, { userId: user.user.id, teamId: user.team!.id, name: 'deploy' }, Date.now())

      const grants = await call<List>('GET', `/admin/v1/users/${user.user.id}/grants`)
      assert.deepEqual(
        grants.body.data.map((g) => [g.client_id, g.team_id]),
        [[id, user.team!.id]],
      )
      assert.equal((await call('DELETE', `/admin/v1/users/${user.user.id}/grants/${id}`)).status, 204)
      assert.equal((await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${accessToken}` } })).status, 401)
      assertProblem(await call('DELETE', `/admin/v1/users/${user.user.id}/grants/${id}`), 404, 'team_app_not_found')

      const tokens = await call<List>('GET', `/admin/v1/users/${user.user.id}/personal-access-tokens`)
      assert.deepEqual(
        tokens.body.data.map((t) => t.name),
        ['deploy'],
      )
      assert.equal((await call('DELETE', `/admin/v1/users/${user.user.id}/personal-access-tokens/${pat.record.id}`)).status, 204)
      assert.equal((await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${pat.token}` } })).status, 401)
      assertProblem(await call('DELETE', `/admin/v1/users/${user.user.id}/personal-access-tokens/${pat.record.id}`), 404, 'token_not_found')

      const sessions = await call<List>('GET', `/admin/v1/users/${user.user.id}/sessions`)
      assert.equal(sessions.body.data.length, 1)
      const sid = sessions.body.data[0]!.sid as string
      assert.equal((await call('DELETE', `/admin/v1/users/${user.user.id}/sessions/${sid}`)).status, 204)
      assert.equal((await call<List>('GET', `/admin/v1/users/${user.user.id}/sessions`)).body.data.length, 0)
      assertProblem(await call('DELETE', `/admin/v1/users/${user.user.id}/sessions/${sid}`), 404, 'session_not_found')
    })

    it('disables and enables a user, and makes a reset link', async () => {
      const disabled = await call<{ user: Json; revoked: Json }>('POST', `/admin/v1/users/${userId}/disable`)
      assert.equal(disabled.status, 200)
      assert.equal(disabled.body.user.is_disabled, true)
      const enabled = await call('POST', `/admin/v1/users/${userId}/enable`)
      assert.equal(enabled.body.is_disabled, false)
      const link = await call('POST', `/admin/v1/users/${userId}/reset-link`)
      assert.equal(link.status, 200)
      assert.match(String(link.body.reset_link), /^http:\/\/127\.0\.0\.1:\d+\//)
      assertProblem(await call('POST', '/admin/v1/users/999999/disable'), 404, 'user_id_not_found')
    })
  })

  describe('teams, members and invitations', () => {
    let teamId: number
    let memberId: number

    it('creates, gets, renames and lists teams', async () => {
      const created = await call('POST', '/admin/v1/teams', { body: { name: 'Globex', owner_id: owner.user.id } })
      assert.equal(created.status, 201)
      teamId = created.body.id as number
      const got = await call('GET', `/admin/v1/teams/${teamId}`)
      const renamed = await call('PATCH', `/admin/v1/teams/${teamId}`, { body: { name: 'Globex Corp' }, headers: { 'if-match': got.headers.get('etag')! } })
      assert.equal(renamed.body.name, 'Globex Corp')
      assertProblem(
        await call('PATCH', `/admin/v1/teams/${teamId}`, { body: { name: 'Late' }, headers: { 'if-match': got.headers.get('etag')! } }),
        412,
        'precondition_failed',
      )
      assertProblem(await call('PATCH', `/admin/v1/teams/${teamId}`, { body: { name: 'Acme' } }), 409, 'team_name_taken')
      assertProblem(await call('POST', '/admin/v1/teams', { body: { name: 'Orphan', owner_id: 999999 } }), 404, 'user_id_not_found')
      assertProblem(await call('POST', '/admin/v1/teams', { body: { name: 'Acme', owner_id: owner.user.id } }), 409, 'team_name_taken')
      const list = await call<List>('GET', '/admin/v1/teams?name=Globex%20Corp')
      assert.deepEqual(
        list.body.data.map((t) => t.id),
        [teamId],
      )
      assertProblem(await call('GET', '/admin/v1/teams/999999'), 404, 'team_not_found')
    })

    it('adds a member, changes the role, keeps an owner, and removes the member', async () => {
      memberId = (await seedUser(server.ctx.db, 'mo@example.com', { name: 'Mo' })).user.id
      const added = await call('POST', `/admin/v1/teams/${teamId}/members`, { body: { user_id: memberId } })
      assert.equal(added.status, 201)
      assert.equal(added.body.role, 'member')
      assertProblem(await call('POST', `/admin/v1/teams/${teamId}/members`, { body: { user_id: memberId } }), 409, 'already_member')
      assertProblem(await call('POST', `/admin/v1/teams/${teamId}/members`, { body: { user_id: memberId, role: 'boss' } }), 400, 'invalid_request')
      const promoted = await call('PATCH', `/admin/v1/teams/${teamId}/members/${memberId}`, { body: { role: 'owner' } })
      assert.equal(promoted.body.role, 'owner')
      const members = await call<List>('GET', `/admin/v1/teams/${teamId}/members`)
      assert.deepEqual(members.body.data.map((m) => m.role).sort(), ['owner', 'owner'])
      await call('PATCH', `/admin/v1/teams/${teamId}/members/${owner.user.id}`, { body: { role: 'member' } })
      assertProblem(await call('PATCH', `/admin/v1/teams/${teamId}/members/${memberId}`, { body: { role: 'member' } }), 409, 'last_owner_demote')
      assertProblem(await call('DELETE', `/admin/v1/teams/${teamId}/members/${memberId}`), 409, 'last_owner_remove')
      const removed = await call<{ user: Json }>('DELETE', `/admin/v1/teams/${teamId}/members/${owner.user.id}`)
      assert.equal(removed.status, 200)
      assert.equal(removed.body.user.id, owner.user.id)
      assertProblem(await call('DELETE', `/admin/v1/teams/${teamId}/members/${owner.user.id}`), 404, 'user_not_member')
    })

    it('invites, lists and cancels invitations', async () => {
      const sent = await call<{ invitation: Json; link: string }>('POST', `/admin/v1/teams/${teamId}/invitations`, {
        body: { email: 'ivy@example.com', role: 'member' },
      })
      assert.equal(sent.status, 201)
      assert.match(sent.body.link, /\/invitations\//)
      assertProblem(await call('POST', `/admin/v1/teams/${teamId}/invitations`, { body: { email: 'ivy@example.com' } }), 409, 'already_invited')
      assertProblem(await call('POST', `/admin/v1/teams/${teamId}/invitations`, { body: { email: 'nope' } }), 400, 'email_invalid')
      const open = await call<List>('GET', `/admin/v1/teams/${teamId}/invitations`)
      assert.deepEqual(
        open.body.data.map((i) => i.email),
        ['ivy@example.com'],
      )
      const cancelled = await call('DELETE', `/admin/v1/teams/${teamId}/invitations/${String(sent.body.invitation.id)}`)
      assert.equal(cancelled.body.is_cancelled, true)
      assert.equal((await call<List>('GET', `/admin/v1/teams/${teamId}/invitations`)).body.data.length, 0)
      assertProblem(await call('DELETE', `/admin/v1/teams/${teamId}/invitations/${String(sent.body.invitation.id)}`), 404, 'invitation_not_found')
    })
  })

  describe('clients', () => {
    let clientId: string

    it('registers a confidential client, showing its secret once, and a public one without', async () => {
      const created = await call('POST', '/admin/v1/clients', {
        body: { name: 'Back Office', owner_id: owner.user.id, team_id: owner.team!.id, redirect_uris: ['https://office.example/cb'] },
        headers: { 'idempotency-key': 'client-1' },
      })
      assert.equal(created.status, 201)
      clientId = created.body.client_id as string
      assert.equal(typeof created.body.client_secret, 'string')
      const replay = await call('POST', '/admin/v1/clients', {
        body: { name: 'Back Office', owner_id: owner.user.id, team_id: owner.team!.id, redirect_uris: ['https://office.example/cb'] },
        headers: { 'idempotency-key': 'client-1' },
      })
      assert.deepEqual(replay.body, created.body)
      const got = await call('GET', `/admin/v1/clients/${clientId}`)
      assert.equal(got.body.client_secret, undefined)
      const pub = await call('POST', '/admin/v1/clients', {
        body: { name: 'SPA', owner_id: owner.user.id, redirect_uris: ['https://spa.example/cb'], confidential: false },
      })
      assert.equal(pub.body.confidential, false)
      assert.equal(pub.body.client_secret, undefined)
      assertProblem(await call('POST', `/admin/v1/clients/${String(pub.body.client_id)}/secret`), 409, 'client_no_secret')
    })

    it('refuses bad clients and registers none', async () => {
      const before = (await call<List>('GET', `/admin/v1/clients?owner_id=${owner.user.id}&limit=100`)).body.data.length
      assertProblem(
        await call('POST', '/admin/v1/clients', { body: { name: 'X', owner_id: owner.user.id, redirect_uris: ['ftp://x'] } }),
        400,
        'redirect_uri_not_https',
      )
      assertProblem(await call('POST', '/admin/v1/clients', { body: { name: 'X', owner_id: owner.user.id, redirect_uris: [] } }), 400, 'invalid_request')
      assertProblem(
        await call('POST', '/admin/v1/clients', { body: { name: 'X', owner_id: 999999, redirect_uris: ['https://x.example/cb'] } }),
        404,
        'user_id_not_found',
      )
      assertProblem(
        await call('POST', '/admin/v1/clients', { body: { name: 'X', owner_id: owner.user.id, team_id: 999999, redirect_uris: ['https://x.example/cb'] } }),
        400,
        'user_not_member',
      )
      assert.equal((await call<List>('GET', `/admin/v1/clients?owner_id=${owner.user.id}&limit=100`)).body.data.length, before)
    })

    it('lists, changes, regenerates the secret of, and deletes a client', async () => {
      const list = await call<List>('GET', `/admin/v1/clients?team_id=${owner.team!.id}&kind=registered&limit=1`)
      assert.equal(list.body.data.length, 1)
      assert.equal(list.body.has_more, true)
      const next = await call<List>('GET', `/admin/v1/clients?team_id=${owner.team!.id}&kind=registered&limit=1&cursor=${list.body.next_cursor!}`)
      assert.notEqual(next.body.data[0]!.client_id, list.body.data[0]!.client_id)
      const got = await call('GET', `/admin/v1/clients/${clientId}`)
      const changed = await call('PATCH', `/admin/v1/clients/${clientId}`, {
        body: { name: 'Back Office 2', redirect_uris: ['https://office.example/cb2'] },
        headers: { 'if-match': got.headers.get('etag')! },
      })
      assert.equal(changed.body.name, 'Back Office 2')
      assert.deepEqual(changed.body.redirect_uris, ['https://office.example/cb2'])
      assertProblem(
        await call('PATCH', `/admin/v1/clients/${clientId}`, { body: { name: 'Late' }, headers: { 'if-match': got.headers.get('etag')! } }),
        412,
        'precondition_failed',
      )
      assertProblem(await call('PATCH', `/admin/v1/clients/${clientId}`, { body: { redirect_uris: ['http://example.com/cb'] } }), 400, 'redirect_uri_not_https')
      assert.equal((await call('GET', `/admin/v1/clients/${clientId}`)).body.name, 'Back Office 2')
      const secret = await call('POST', `/admin/v1/clients/${clientId}/secret`)
      assert.equal(typeof secret.body.client_secret, 'string')
      assert.equal((await call('DELETE', `/admin/v1/clients/${clientId}`)).status, 204)
      assertProblem(await call('GET', `/admin/v1/clients/${clientId}`), 404, 'client_not_found')
      assertProblem(await call('DELETE', `/admin/v1/clients/${clientId}`), 404, 'client_not_found')
    })
  })

  describe('resources, registration tokens, signing keys and activity', () => {
    it('registers, lists and deletes resources', async () => {
      const created = await call('POST', '/admin/v1/resources', { body: { uri: 'https://mcp.example/mcp', name: 'MCP', scopes: ['tools:read'] } })
      assert.equal(created.status, 201)
      assertProblem(await call('POST', '/admin/v1/resources', { body: { uri: 'https://mcp.example/mcp', name: 'MCP' } }), 400, 'resource_exists')
      assertProblem(await call('POST', '/admin/v1/resources', { body: { uri: 'not a uri', name: 'Bad' } }), 400, 'resource_uri_invalid')
      const list = await call<List>('GET', '/admin/v1/resources')
      assert.ok(list.body.data.some((r) => r.uri === 'https://mcp.example/mcp'))
      assert.equal((await call('DELETE', `/admin/v1/resources/${encodeURIComponent('https://mcp.example/mcp')}`)).status, 204)
      assertProblem(await call('DELETE', `/admin/v1/resources/${encodeURIComponent('https://mcp.example/mcp')}`), 404, 'resource_not_found')
    })

    it('makes registration tokens', async () => {
      const made = await call('POST', '/admin/v1/registration-tokens')
      assert.equal(made.status, 201)
      assert.match(String(made.body.registration_token), /^gatehouse_reg_/)
      assertProblem(await call('POST', '/admin/v1/registration-tokens', { body: { expires_in: 5 } }), 400, 'registration_token_lifetime_invalid')
      assertProblem(await call('POST', '/admin/v1/registration-tokens', { body: { expires_in: 'soon' } }), 400, 'invalid_request')
    })

    it('lists and rotates signing keys', async () => {
      const before = await call<List>('GET', '/admin/v1/signing-keys')
      const rotated = await call('POST', '/admin/v1/signing-keys/rotate')
      assert.equal(rotated.status, 200)
      const after = await call<List>('GET', '/admin/v1/signing-keys')
      assert.ok(after.body.data.some((k) => k.kid === rotated.body.kid && k.retired_at === null))
      assert.ok(after.body.data.length > before.body.data.length)
      assertProblem(await call('POST', '/admin/v1/signing-keys/rotate', { token: reader }), 403, 'insufficient_scope')
    })

    it('logs every admin call with the admin token, and lists the log filtered and paged', async () => {
      await server.ctx.activity.flush()
      const calls = await call<List>('GET', `/admin/v1/activity?admin_token_id=${writerId}&action=admin.request&limit=5`)
      assert.equal(calls.body.data.length, 5)
      assert.equal(calls.body.has_more, true)
      for (const entry of calls.body.data) {
        assert.equal(entry.admin_token_id, writerId)
        assert.match(String(entry.detail), /^back office: (GET|POST|PATCH|DELETE) \/admin\/v1\//)
      }
      const next = await call<List>(`GET`, `/admin/v1/activity?admin_token_id=${writerId}&action=admin.request&limit=5&cursor=${calls.body.next_cursor!}`)
      assert.ok((next.body.data[0]!.id as number) < (calls.body.data[4]!.id as number))
      const created = await call<List>('GET', `/admin/v1/activity?action=client.created&admin_token_id=${writerId}`)
      assert.ok(created.body.data.some((e) => e.detail === 'Back Office'))
      const refused = await call<List>('GET', `/admin/v1/activity?action=admin.request&admin_token_id=${readerId}&limit=100`)
      assert.ok(refused.body.data.some((e) => /^support desk: POST \/admin\/v1\/users 403$/.test(String(e.detail))))
    })
  })

  describe('webhooks', () => {
    let hooksOwner: SeededUser
    let endpointId: string

    async function endpointCount(): Promise<number> {
      return (await call<List>('GET', '/admin/v1/webhooks?limit=100')).body.data.length
    }

    /** Polls the delivery log until `check` holds for the newest delivery. */
    async function newestDelivery(check: (delivery: Json) => boolean): Promise<Json> {
      for (let i = 0; i < 200; i++) {
        const newest = (await call<List>('GET', `/admin/v1/webhooks/${endpointId}/deliveries?limit=1`)).body.data[0]
        if (newest && check(newest)) return newest
        await sleep(50)
      }
      assert.fail('the delivery log never showed the delivery')
    }

    async function registerClientOfHooksTeam(name: string): Promise<void> {
      const answer = await call('POST', '/admin/v1/clients', { body: { name, owner_id: hooksOwner.user.id, redirect_uris: [REDIRECT] } })
      assert.equal(answer.status, 201)
    }

    it('adds an endpoint to a team, its signing secret shown once', async () => {
      hooksOwner = await seedUser(server.ctx.db, 'hana@example.com', { name: 'Hana Hooks', team: 'Hooks' })
      const created = await call('POST', '/admin/v1/webhooks', {
        body: { team_id: hooksOwner.team!.id, url: receiver.url, events: ['client.created', 'client.created'] },
        headers: { 'idempotency-key': 'hooks-1' },
      })
      assert.equal(created.status, 201)
      assert.match(String(created.body.secret), /^whsec_/)
      assert.deepEqual(created.body.events, ['client.created'])
      assert.equal(created.body.team_id, hooksOwner.team!.id)
      assert.equal(created.body.enabled, true)
      endpointId = created.body.id as string
      assert.equal(created.headers.get('location'), `/admin/v1/webhooks/${endpointId}`)
      receiver.secret = created.body.secret as string
      const got = await call('GET', `/admin/v1/webhooks/${endpointId}`, { token: reader })
      assert.equal(got.status, 200)
      assert.equal(got.body.url, receiver.url)
      assert.equal(got.body.secret, undefined)
      assert.ok(!JSON.stringify(got.body).includes(receiver.secret))
    })

    it('refuses internal addresses not allowed by the operator, unknown events, wrong types and unknown teams, writing nothing', async () => {
      const count = await endpointCount()
      const team_id = hooksOwner.team!.id
      for (const url of ['https://10.0.0.5/hooks', 'http://localhost:8080/hooks', 'http://hooks.example.com/in', 'https://127.0.0.2/hooks']) {
        assertProblem(await call('POST', '/admin/v1/webhooks', { body: { team_id, url, events: ['client.created'] } }), 400, 'webhook_url_refused')
      }
      assertProblem(await call('POST', '/admin/v1/webhooks', { body: { team_id, url: 'not a url', events: ['client.created'] } }), 400, 'webhook_url_invalid')
      const unknown = await call('POST', '/admin/v1/webhooks', { body: { team_id, url: 'https://hooks.example.com/in', events: ['user.exploded'] } })
      assertProblem(unknown, 400, 'webhook_event_unknown')
      assert.match(String(unknown.body.detail), /user\.exploded/)
      for (const body of [
        { team_id, url: 42, events: ['client.created'] },
        { team_id: 'Hooks', url: 'https://hooks.example.com/in', events: ['client.created'] },
        { team_id, url: 'https://hooks.example.com/in', events: 'client.created' },
        { team_id, url: 'https://hooks.example.com/in', events: [] },
        { team_id, url: 'https://hooks.example.com/in', events: ['client.created'], secret: 'mine' },
        { team_id, url: 'https://hooks.example.com/in' },
      ]) {
        assertProblem(await call('POST', '/admin/v1/webhooks', { body }), 400, 'invalid_request')
      }
      assertProblem(
        await call('POST', '/admin/v1/webhooks', { body: { team_id: 999999, url: 'https://hooks.example.com/in', events: ['client.created'] } }),
        404,
        'team_not_found',
      )
      assertProblem(
        await call('POST', '/admin/v1/webhooks', { token: reader, body: { team_id, url: 'https://hooks.example.com/in', events: ['client.created'] } }),
        403,
        'insufficient_scope',
      )
      assertProblem(await call('PATCH', `/admin/v1/webhooks/${endpointId}`, { token: reader, body: { enabled: false } }), 403, 'insufficient_scope')
      assertProblem(await call('DELETE', `/admin/v1/webhooks/${endpointId}`, { token: reader }), 403, 'insufficient_scope')
      assert.equal(await endpointCount(), count)
      assert.equal((await call('GET', `/admin/v1/webhooks/${endpointId}`)).body.enabled, true)
    })

    it("lists every team's endpoints, filtered by team and paged by cursor", async () => {
      const other = await call('POST', '/admin/v1/webhooks', {
        body: { team_id: owner.team!.id, url: 'https://hooks.example.com/acme', events: ['member.removed'] },
      })
      assert.equal(other.status, 201)
      const all = await call<List>('GET', '/admin/v1/webhooks', { token: reader })
      assert.deepEqual(all.body.data.map((e) => e.id).sort(), [endpointId, other.body.id].sort())
      const filtered = await call<List>('GET', `/admin/v1/webhooks?team_id=${hooksOwner.team!.id}`)
      assert.deepEqual(
        filtered.body.data.map((e) => e.id),
        [endpointId],
      )
      const first = await call<List>('GET', '/admin/v1/webhooks?limit=1')
      assert.equal(first.body.has_more, true)
      const second = await call<List>('GET', `/admin/v1/webhooks?limit=1&cursor=${encodeURIComponent(first.body.next_cursor!)}`)
      assert.equal(second.body.has_more, false)
      assert.notEqual(second.body.data[0]!.id, first.body.data[0]!.id)
      assertProblem(await call('GET', '/admin/v1/webhooks?team_id=acme'), 400, 'invalid_request')
      assert.equal((await call('DELETE', `/admin/v1/webhooks/${other.body.id as string}`)).status, 204)
    })

    it('changes an endpoint with If-Match, refusing a stale ETag, a refused URL and wrong types', async () => {
      const got = await call('GET', `/admin/v1/webhooks/${endpointId}`)
      const etag = got.headers.get('etag')!
      await sleep(5)
      const changed = await call('PATCH', `/admin/v1/webhooks/${endpointId}`, {
        body: { events: ['client.created', 'client.deleted'] },
        headers: { 'if-match': etag },
      })
      assert.equal(changed.status, 200)
      assert.deepEqual(changed.body.events, ['client.created', 'client.deleted'])
      assert.notEqual(changed.headers.get('etag'), etag)
      assertProblem(
        await call('PATCH', `/admin/v1/webhooks/${endpointId}`, { body: { events: ['client.created'] }, headers: { 'if-match': etag } }),
        412,
        'precondition_failed',
      )
      assertProblem(await call('PATCH', `/admin/v1/webhooks/${endpointId}`, { body: { url: 'https://192.168.1.1/hooks' } }), 400, 'webhook_url_refused')
      assertProblem(await call('PATCH', `/admin/v1/webhooks/${endpointId}`, { body: { events: ['nope'] } }), 400, 'webhook_event_unknown')
      assertProblem(await call('PATCH', `/admin/v1/webhooks/${endpointId}`, { body: { enabled: 'yes' } }), 400, 'invalid_request')
      assertProblem(await call('PATCH', `/admin/v1/webhooks/${endpointId}`, { body: { team_id: owner.team!.id } }), 400, 'invalid_request')
      const now = await call('GET', `/admin/v1/webhooks/${endpointId}`)
      assert.equal(now.body.url, receiver.url)
      assert.deepEqual(now.body.events, ['client.created', 'client.deleted'])
      assertProblem(await call('PATCH', '/admin/v1/webhooks/ep_nothing', { body: { enabled: false } }), 404, 'webhook_not_found')
    })

    it('shows the delivery log and sends a delivery again with the same webhook-id', async () => {
      const before = receiver.received.length
      await registerClientOfHooksTeam('Hooked App')
      await receiver.arrived(before + 1)
      const sent = receiver.received.at(-1)!
      assert.equal(sent.payload.type, 'client.created')
      assert.equal(receiver.rejected, 0)
      const logged = await newestDelivery((d) => d.status === 'delivered')
      assert.equal(logged.id, sent.id)
      assert.equal(logged.endpoint_id, endpointId)
      assert.equal(logged.attempts, 1)
      assert.equal(logged.response_status, 204)

      const resent = await call('POST', `/admin/v1/webhooks/${endpointId}/deliveries/${sent.id}/resend`, {})
      assert.equal(resent.status, 202)
      assert.equal(resent.body.id, sent.id)
      assert.equal(resent.body.status, 'pending')
      await receiver.arrived(before + 2)
      assert.equal(receiver.received.at(-1)!.id, sent.id)
      await newestDelivery((d) => d.id === sent.id && d.status === 'delivered' && d.attempts === 2)
    })

    it('refuses to send again a delivery already waiting, and pages the log', async () => {
      const before = receiver.received.length
      receiver.statuses = [500]
      await registerClientOfHooksTeam('Failing App')
      await receiver.arrived(before + 1)
      const waiting = await newestDelivery((d) => d.id === receiver.received.at(-1)!.id && d.attempts === 1 && d.response_status === 500)
      assert.equal(waiting.status, 'pending')
      assertProblem(await call('POST', `/admin/v1/webhooks/${endpointId}/deliveries/${waiting.id as string}/resend`), 409, 'webhook_delivery_queued')

      const first = await call<List>('GET', `/admin/v1/webhooks/${endpointId}/deliveries?limit=1`, { token: reader })
      assert.equal(first.body.data[0]!.id, waiting.id)
      assert.equal(first.body.has_more, true)
      const rest = await call<List>('GET', `/admin/v1/webhooks/${endpointId}/deliveries?cursor=${first.body.next_cursor!}`)
      assert.equal(rest.body.has_more, false)
      assert.ok(rest.body.data.length >= 1)
      assert.ok(!rest.body.data.some((d) => d.id === waiting.id))
      assertProblem(await call('GET', `/admin/v1/webhooks/${endpointId}/deliveries?cursor=yesterday`), 400, 'cursor_invalid')
      assertProblem(await call('GET', '/admin/v1/webhooks/ep_nothing/deliveries'), 404, 'webhook_not_found')
      assertProblem(await call('POST', `/admin/v1/webhooks/${endpointId}/deliveries/msg_nothing/resend`), 404, 'webhook_delivery_not_found')
      assertProblem(await call('POST', `/admin/v1/webhooks/ep_nothing/deliveries/${waiting.id as string}/resend`), 404, 'webhook_not_found')
    })

    it('deletes an endpoint with its log, and logs each change with the admin token', async () => {
      assert.equal((await call('DELETE', `/admin/v1/webhooks/${endpointId}`)).status, 204)
      assertProblem(await call('GET', `/admin/v1/webhooks/${endpointId}`), 404, 'webhook_not_found')
      assertProblem(await call('DELETE', `/admin/v1/webhooks/${endpointId}`), 404, 'webhook_not_found')
      assertProblem(await call('GET', `/admin/v1/webhooks/${endpointId}/deliveries`), 404, 'webhook_not_found')
      await server.ctx.activity.flush()
      for (const action of ['webhook.created', 'webhook.updated', 'webhook.delivery_resent', 'webhook.deleted']) {
        const entries = await call<List>('GET', `/admin/v1/activity?action=${action}&admin_token_id=${writerId}&team_id=${hooksOwner.team!.id}`)
        assert.ok(
          entries.body.data.some((e) => String(e.detail).startsWith(endpointId)),
          action,
        )
      }
    })
  })

  describe('two-factor reset', () => {
    it('removes every factor of a user, tells them, and logs it; a reader may not, an unknown user is a problem', async () => {
      const { user } = await seedUser(server.ctx.db, 'mona@example.com', { name: 'Mona Factor' })
      await enrolApp(server.ctx, user)
      assert.equal(await hasFactor(server.ctx, user.id), true)

      assertProblem(await call('POST', `/admin/v1/users/${user.id}/mfa-reset`, { token: reader }), 403, 'insufficient_scope')
      assert.equal(await hasFactor(server.ctx, user.id), true)

      const reset = await call('POST', `/admin/v1/users/${user.id}/mfa-reset`)
      assert.equal(reset.status, 200)
      assert.equal(reset.body.removed, 1)
      assert.equal((reset.body.user as Json).id, user.id)
      assert.equal(await hasFactor(server.ctx, user.id), false)

      await server.ctx.activity.flush()
      const logged = await call<List>('GET', `/admin/v1/activity?action=factors.reset&user_id=${user.id}`)
      assert.equal(logged.body.data.length, 1)
      const requests = await call<List>('GET', `/admin/v1/activity?action=admin.request&admin_token_id=${writerId}`)
      assert.ok(requests.body.data.some((e) => String(e.detail).includes('POST /admin/v1/users/:id/mfa-reset 200')))

      assertProblem(await call('POST', '/admin/v1/users/999999/mfa-reset'), 404, 'user_id_not_found')
      assertProblem(await call('POST', '/admin/v1/users/mona/mfa-reset'), 400, 'invalid_request')
    })
  })

  describe('trusted issuers', () => {
    let trustedId: number

    it('trusts an identity provider for a team, and refuses a non-https jwks_uri, an unknown team and wrong types', async () => {
      const created = await call('POST', '/admin/v1/trusted-issuers', {
        body: { issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks', team_id: owner.team!.id },
      })
      assert.equal(created.status, 201)
      assert.equal(created.body.issuer, 'https://idp.example.com')
      assert.equal(created.body.jwks_uri, 'https://idp.example.com/jwks')
      assert.equal(created.body.team_id, owner.team!.id)
      trustedId = created.body.id as number
      assert.equal(created.headers.get('location'), `/admin/v1/trusted-issuers/${trustedId}`)

      const count = async () => (await call<List>('GET', '/admin/v1/trusted-issuers?limit=100')).body.data.length
      const before = await count()
      const valid = { issuer: 'https://other.example.com', jwks_uri: 'https://other.example.com/jwks', team_id: owner.team!.id }
      assertProblem(
        await call('POST', '/admin/v1/trusted-issuers', { body: { ...valid, jwks_uri: 'http://other.example.com/jwks' } }),
        400,
        'trusted_issuer_invalid',
      )
      assertProblem(await call('POST', '/admin/v1/trusted-issuers', { body: { ...valid, issuer: 'http://other.example.com' } }), 400, 'trusted_issuer_invalid')
      assertProblem(await call('POST', '/admin/v1/trusted-issuers', { body: { ...valid, issuer: 'not a url' } }), 400, 'trusted_issuer_invalid')
      assertProblem(await call('POST', '/admin/v1/trusted-issuers', { body: { ...valid, team_id: 999999 } }), 404, 'team_not_found')
      assertProblem(await call('POST', '/admin/v1/trusted-issuers', { body: { ...valid, team_id: 'Acme' } }), 400, 'invalid_request')
      assertProblem(await call('POST', '/admin/v1/trusted-issuers', { body: { issuer: valid.issuer } }), 400, 'invalid_request')
      assertProblem(await call('POST', '/admin/v1/trusted-issuers', { token: reader, body: valid }), 403, 'insufficient_scope')
      assert.equal(await count(), before)
    })

    it('lists them a page at a time, filtered by team, and gets one', async () => {
      const other = await seedUser(server.ctx.db, 'tess@example.com', { name: 'Tess Trust', team: 'Trusting' })
      const second = await call('POST', '/admin/v1/trusted-issuers', {
        body: { issuer: 'https://idp.trusting.example', jwks_uri: 'https://idp.trusting.example/jwks', team_id: other.team!.id },
      })
      assert.equal(second.status, 201)

      const first = await call<List>('GET', '/admin/v1/trusted-issuers?limit=1', { token: reader })
      assert.equal(first.body.data[0]!.id, trustedId)
      assert.equal(first.body.has_more, true)
      const rest = await call<List>('GET', `/admin/v1/trusted-issuers?cursor=${first.body.next_cursor!}`)
      assert.deepEqual(
        rest.body.data.map((t) => t.id),
        [second.body.id],
      )
      const filtered = await call<List>('GET', `/admin/v1/trusted-issuers?team_id=${other.team!.id}`)
      assert.deepEqual(
        filtered.body.data.map((t) => t.id),
        [second.body.id],
      )
      assertProblem(await call('GET', '/admin/v1/trusted-issuers?team_id=Trusting'), 400, 'invalid_request')
      assertProblem(await call('GET', '/admin/v1/trusted-issuers?cursor=yesterday'), 400, 'cursor_invalid')

      const got = await call('GET', `/admin/v1/trusted-issuers/${trustedId}`, { token: reader })
      assert.equal(got.status, 200)
      assert.equal(got.body.issuer, 'https://idp.example.com')
      assertProblem(await call('GET', '/admin/v1/trusted-issuers/999999'), 404, 'trusted_issuer_not_found')
      assertProblem(await call('GET', '/admin/v1/trusted-issuers/idp'), 400, 'invalid_request')
      assert.equal((await call('DELETE', `/admin/v1/trusted-issuers/${second.body.id as number}`)).status, 204)
    })

    it('deletes one, refusing a reader, and logs each change with the admin token', async () => {
      assertProblem(await call('DELETE', `/admin/v1/trusted-issuers/${trustedId}`, { token: reader }), 403, 'insufficient_scope')
      assert.equal((await call('GET', `/admin/v1/trusted-issuers/${trustedId}`)).status, 200)
      assert.equal((await call('DELETE', `/admin/v1/trusted-issuers/${trustedId}`)).status, 204)
      assertProblem(await call('GET', `/admin/v1/trusted-issuers/${trustedId}`), 404, 'trusted_issuer_not_found')
      assertProblem(await call('DELETE', `/admin/v1/trusted-issuers/${trustedId}`), 404, 'trusted_issuer_not_found')
      await server.ctx.activity.flush()
      for (const action of ['trusted_issuer.added', 'trusted_issuer.deleted']) {
        const entries = await call<List>('GET', `/admin/v1/activity?action=${action}&admin_token_id=${writerId}&team_id=${owner.team!.id}`)
        assert.ok(
          entries.body.data.some((e) => String(e.detail).startsWith(`${trustedId} `)),
          action,
        )
      }
    })
  })

  describe('OpenAPI', () => {
    it('serves documents for /api/v2 and /admin/v1 that pass an OpenAPI 3.1 validator', async () => {
      for (const path of ['/openapi/api-v2.json', '/openapi/admin-v1.json']) {
        const document = (await (await fetch(new URL(path, server.url))).json()) as Json
        assert.equal(document.openapi, '3.1.0')
        const result = await new Validator().validate(document)
        assert.equal(result.valid, true, JSON.stringify(result.errors))
      }
    })

    it('describes every operation of the admin API, and the tests answered each', async () => {
      const operations = Object.entries(admin.document.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
      assert.ok(operations.length >= 30)
      const answered = new Set([...admin.seen].map((s) => s.split(' ').slice(0, 2).join(' ')))
      assert.deepEqual(
        operations.filter((o) => !answered.has(o)),
        [],
      )
    })

    it('has a reference page listing the operations, linking both documents', async () => {
      const response = await fetch(new URL('/openapi', server.url))
      assert.equal(response.status, 200)
      const html = await response.text()
      assert.match(html, /href="\/openapi\/admin-v1\.json"/)
      assert.match(html, /href="\/openapi\/api-v2\.json"/)
      assert.match(html, /<code>\/admin\/v1\/users\/\{id\}\/disable<\/code>/)
    })

    it('describes the answers of /api/v2 as they are sent', async () => {
      const api = await OpenApiChecker.load(server, '/openapi/api-v2.json')
      const { token } = await createPersonalAccessToken(server.ctx.db, { userId: owner.user.id, teamId: owner.team!.id, name: 'docs' }, Date.now())
      for (const path of ['/api/v2/me', '/api/v2/team', '/api/v2/activities?limit=2']) {
        assert.equal((await callChecked(api, server, 'GET', path, { token })).status, 200)
      }
      assert.equal((await callChecked(api, server, 'GET', '/api/v2/me')).status, 401)
      assert.equal((await callChecked(api, server, 'GET', '/api/v2/activities?limit=0', { token })).status, 400)
    })
  })

  describe('housekeeping', () => {
    it('forgets Idempotency-Keys a day after their request: the same key then makes a new request', async () => {
      const later = Date.now() + 25 * 3600 * 1000
      const counts = await pruneExpired({ ...server.ctx, clock: () => later })
      assert.ok(counts.admin_idempotency_keys >= 2)
      const body = { email: 'uma@example.com', name: 'Uma User', password: 'correct horse battery', is_verified: true }
      assertProblem(await call('POST', '/admin/v1/users', { body, headers: { 'idempotency-key': 'create-uma-1' } }), 409, 'email_taken')
    })
  })
})
