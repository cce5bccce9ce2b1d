import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setDisabled } from '../../accounts/users.js'
import { openDomainWithApp, tokensFor, type TestDomain } from '../../testing/domain.js'
import { seedClient, seedUser, type SeededClient, type SeededUser } from '../../testing/fixtures.js'
import { checkAccessToken } from '../../tokens/verify.js'
import { InvalidGrant, InvalidScope } from '../../protocol/errors.js'
import { refreshTokenGrant } from './refresh-token.js'

describe('refresh_token grant (RFC 6749 §6)', () => {
  let domain: TestDomain
  let ada: SeededUser
  let app: SeededClient
  let other: SeededClient

  before(async () => {
    ;({ domain, ada, app } = await openDomainWithApp())
    other = await seedClient(domain, ada)
  })
  after(() => domain.close())

  const tokens = (holder = ada, scopes = 'read write') => tokensFor(domain, holder, app, scopes)
  const refresh = (refreshToken: string, client = app, extra: Record<string, string> = {}) =>
    refreshTokenGrant(domain, client.client, { refresh_token: refreshToken, ...extra }, '203.0.113.5')
  const isActive = async (accessToken: string) => (await checkAccessToken(domain, accessToken)).active

  it('rotates: the used refresh token and the access token issued with it end at once (seed 000)', async () => {
    const first = await tokens()
    const second = await refresh(first.refresh_token)
    assert.notEqual(second.refresh_token, first.refresh_token)
    assert.equal(await isActive(first.access_token), false)
    assert.equal(await isActive(second.access_token), true)
    await assert.rejects(refresh(first.refresh_token), InvalidGrant)
  })

  it('a used refresh token presented again revokes the whole family, in one transaction, and is recorded (RFC 9700 §4.14.2)', async () => {
    const first = await tokens()
    const second = await refresh(first.refresh_token)
    const third = await refresh(second.refresh_token)
    await assert.rejects(refresh(first.refresh_token), InvalidGrant)
    assert.equal(await isActive(third.access_token), false, 'the newest access token')
    await assert.rejects(refresh(third.refresh_token), InvalidGrant, 'the newest refresh token')
    await domain.activity.flush()
    const events = await domain.db.kysely.selectFrom('activities').select('action').where('action', '=', 'refresh_token.replayed').execute()
    assert.ok(events.length >= 1)
  })

  it('refreshes once when refreshes race with one refresh token (RFC 6749 §6, RFC 9700 §4.14.2)', async () => {
    const { refresh_token } = await tokens()
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => refresh(refresh_token)))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof InvalidGrant, String(r.reason))
  })

  it('works only for the client it was issued to', async () => {
    const { refresh_token } = await tokens()
    await assert.rejects(refresh(refresh_token, other), InvalidGrant)
    await refresh(refresh_token)
  })

  it('may narrow the scope, never widen it (RFC 6749 §6)', async () => {
    const { refresh_token } = await tokens(ada, 'read')
    await assert.rejects(refresh(refresh_token, app, { scope: 'read write' }), InvalidScope)
    const narrowed = await refresh(refresh_token, app, { scope: 'read' })
    assert.equal(narrowed.scope, 'read')
  })

  it('refuses the refresh token of a user who was disabled, and enabling them again does not bring it back', async () => {
    const eve = await seedUser(domain.db, 'eve@example.com', { team: 'Engines', role: 'member' })
    const { refresh_token } = await tokens(eve)
    await setDisabled(domain.db, 'eve@example.com', true, domain.clock())
    await setDisabled(domain.db, 'eve@example.com', false, domain.clock())
    await assert.rejects(refresh(refresh_token), InvalidGrant)
  })
})
