import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setDisabled } from '../../accounts/users.js'
import { randomSecret } from '../../crypto/random.js'
import { issueCodeFor, openDomainWithApp, type TestDomain } from '../../testing/domain.js'
import { REDIRECT, seedClient, seedUser, type SeededClient, type SeededUser } from '../../testing/fixtures.js'
import { pkcePair } from '../../testing/oauth.js'
import { checkAccessToken } from '../../tokens/verify.js'
import { InvalidGrant } from '../../protocol/errors.js'
import { authorizationCodeGrant } from './authorization-code.js'

describe('authorization_code grant (RFC 6749 §4.1.3)', () => {
  let domain: TestDomain
  let ada: SeededUser
  let app: SeededClient
  let other: SeededClient

  before(async () => {
    ;({ domain, ada, app } = await openDomainWithApp())
    other = await seedClient(domain, ada)
  })
  after(() => domain.close())

  const codeFor = (client = app, extra: { scopes?: string; codeChallenge?: string } = {}) => issueCodeFor(domain, ada, client, extra)
  const exchange = (code: string, client = app, extra: Record<string, string> = {}) =>
    authorizationCodeGrant(domain, client.client, { code, redirect_uri: REDIRECT, ...extra }, '203.0.113.5')
  const isActive = async (accessToken: string) => (await checkAccessToken(domain, accessToken)).active

  it('exchanges a code for tokens carrying its scopes', async () => {
    const response = await exchange(await codeFor(app, { scopes: 'read' }))
    assert.equal(response.token_type, 'Bearer')
    assert.equal(response.scope, 'read')
    assert.equal(await isActive(response.access_token), true)
  })

  it('a code is single-use: the second exchange is invalid_grant and revokes the tokens of the first (RFC 6749 §4.1.2)', async () => {
    const code = await codeFor()
    const first = await exchange(code)
    await assert.rejects(exchange(code), InvalidGrant)
    assert.equal(await isActive(first.access_token), false)
    await domain.activity.flush()
    const events = await domain.db.kysely.selectFrom('activities').select('action').where('action', '=', 'authorization_code.replayed').execute()
    assert.equal(events.length, 1, 'the replay is recorded')
  })

  it('redeems a code once when exchanges race: one set of tokens, the rest invalid_grant (RFC 6749 §4.1.2)', async () => {
    const code = await codeFor()
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => exchange(code)))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof InvalidGrant, String(r.reason))
  })

  it('binds the code to its client: another client gets invalid_grant and the code still works for its own', async () => {
    const code = await codeFor()
    await assert.rejects(exchange(code, other), InvalidGrant)
    assert.equal(await isActive((await exchange(code)).access_token), true)
  })

  it('refuses a code past its 10 minutes (RFC 6749 §4.1.2)', async () => {
    const code = await codeFor()
    domain.advance(10 * 60 * 1000)
    try {
      await assert.rejects(exchange(code), InvalidGrant)
    } finally {
      domain.advance(-10 * 60 * 1000)
    }
  })

  it('requires the redirect_uri of the authorization request (RFC 6749 §4.1.3)', async () => {
    await assert.rejects(exchange(await codeFor(), app, { redirect_uri: 'https://app.example/other' }), InvalidGrant)
  })

  it('binds the code to its PKCE challenge: a missing or wrong verifier is invalid_grant (RFC 7636 §4.6)', async () => {
    const { verifier, challenge } = pkcePair()
    const code = await codeFor(app, { codeChallenge: challenge })
    await assert.rejects(exchange(code), InvalidGrant)
    await assert.rejects(exchange(code, app, { code_verifier: randomSecret(32) }), InvalidGrant)
    assert.equal(await isActive((await exchange(code, app, { code_verifier: verifier })).access_token), true)
  })

  it('refuses a verifier for a code issued without a challenge: PKCE downgrade (RFC 9700 §4.8.2)', async () => {
    await assert.rejects(exchange(await codeFor(), app, { code_verifier: randomSecret(32) }), InvalidGrant)
  })

  it('gives a disabled user no tokens: disabling ends the codes not yet redeemed', async () => {
    const eve = await seedUser(domain.db, 'eve@example.com', { team: 'Engines', role: 'member' })
    const code = await issueCodeFor(domain, eve, app)
    await setDisabled(domain.db, 'eve@example.com', true, domain.clock())
    await assert.rejects(exchange(code), InvalidGrant)
  })
})
