import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { decodeJwt } from 'jose'
import * as oidc from 'openid-client'
import { createResource } from '../resources/resources.js'
import { forEachDialect } from '../testing/dialects.js'
import { seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { basicAuth, postOAuth } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { ACCESS_TOKEN_TYPE_URI, TOKEN_EXCHANGE_GRANT } from './grants/token-exchange.js'
import { revokeTeamApp } from './team-apps.js'

const NOTES = 'https://notes.example.com/mcp'
const FILES = 'https://files.example.com/mcp'

/**
 * Token exchange (RFC 8693), driven by openid-client's genericGrantRequest,
 * unmodified: an allowed client trades a user's access token for one of its
 * own that acts for the same user, names it in `act`, does no more and ends
 * no later, and dies with the subject's grant.
 */
await forEachDialect('token exchange', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let app: SeededClient
  let agent: SeededClient
  let tool: SeededClient

  before(async () => {
    server = await startTestServer(dialect)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
    app = await seedClient(server.ctx, ada, { isFirstParty: true })
    agent = await seedClient(server.ctx, ada, { name: 'Agent', tokenExchange: true })
    tool = await seedClient(server.ctx, ada, { name: 'Tool', tokenExchange: true })
    await createResource(server.ctx.db, server.url, { uri: NOTES, name: 'Notes', scopes: ['notes'] }, Date.now())
    await createResource(server.ctx.db, server.url, { uri: FILES, name: 'Files', scopes: ['files'] }, Date.now())
  })
  after(() => server.stop())

  /** A token Ada's first-party app holds, as the subject of an exchange. */
  const subjectToken = async (extra: Record<string, string> = {}) => {
    const { response, body } = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'password', username: 'ada@example.com', password: 'correct horse battery', ...extra },
      { authorization: basicAuth(app.id, app.secret) },
    )
    assert.equal(response.status, 200, JSON.stringify(body))
    return body.access_token as string
  }

  const exchange = (client: SeededClient, params: Record<string, string>) =>
    postOAuth(
      server,
      '/oauth/token',
      { grant_type: TOKEN_EXCHANGE_GRANT, subject_token_type: ACCESS_TOKEN_TYPE_URI, ...params },
      { authorization: basicAuth(client.id, client.secret) },
    )

  const me = (token: string) => fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${token}` } })

  it('openid-client genericGrantRequest exchanges a token: same user and team, act names the client, no refresh token, no longer-lived', async () => {
    const subject = await subjectToken({ scope: 'read write' })
    const config = await oidc.discovery(new URL(server.url), agent.id, undefined, oidc.ClientSecretBasic(agent.secret), {
      execute: [oidc.allowInsecureRequests],
    })
    assert.ok(config.serverMetadata().grant_types_supported?.includes(TOKEN_EXCHANGE_GRANT))
    const tokens = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE_URI,
      scope: 'read',
    })
    assert.equal(tokens.issued_token_type, ACCESS_TOKEN_TYPE_URI)
    assert.equal(tokens.refresh_token, undefined)
    assert.equal(tokens.scope, 'read')
    const claims = decodeJwt(tokens.access_token)
    const subjectClaims = decodeJwt(subject)
    assert.equal(claims.sub, subjectClaims.sub)
    assert.equal(claims.team_id, subjectClaims.team_id)
    assert.equal(claims.client_id, agent.id)
    assert.deepEqual(claims.act, { sub: agent.id })
    assert.ok(claims.exp! <= subjectClaims.exp!)

    const body = (await (await me(tokens.access_token)).json()) as Record<string, unknown>
    assert.equal(body.id, ada.user.id)
    assert.deepEqual(body.act, { sub: agent.id })
    const mine = (await (await me(subject)).json()) as Record<string, unknown>
    assert.equal(mine.act, undefined)

    const introspected = await postOAuth(server, '/oauth/introspect', { token: tokens.access_token }, { authorization: basicAuth(agent.id, agent.secret) })
    assert.equal(introspected.body.active, true)
    assert.deepEqual(introspected.body.act, { sub: agent.id })

    await server.ctx.activity.flush()
    const logged = await server.ctx.db.kysely
      .selectFrom('activities')
      .select(['user_id', 'team_id'])
      .where('action', '=', 'token.exchanged')
      .where('client_id', '=', agent.id)
      .executeTakeFirstOrThrow()
    assert.deepEqual(logged, { user_id: ada.user.id, team_id: ada.team!.id })
  })

  it('ends no later than its subject token', async () => {
    const subject = await subjectToken()
    const subjectExp = decodeJwt(subject).exp!
    const { body } = await exchange(agent, { subject_token: subject })
    assert.ok(decodeJwt(body.access_token as string).exp! <= subjectExp)
    assert.ok((body.expires_in as number) <= server.ctx.config.accessTokenTtlSeconds)
  })

  it('nests act along a chain of exchanges, and with an actor_token names its user (RFC 8693 §4.1)', async () => {
    const first = await exchange(agent, { subject_token: await subjectToken() })
    const second = await exchange(tool, { subject_token: first.body.access_token as string })
    assert.equal(second.response.status, 200, JSON.stringify(second.body))
    assert.deepEqual(decodeJwt(second.body.access_token as string).act, { sub: tool.id, act: { sub: agent.id } })

    const service = await seedClient(server.ctx, ada, { name: 'Bot', isService: true, redirectUris: [], tokenExchange: true })
    const own = await postOAuth(server, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(service.id, service.secret) })
    const acted = await exchange(service, {
      subject_token: await subjectToken(),
      actor_token: own.body.access_token as string,
      actor_token_type: ACCESS_TOKEN_TYPE_URI,
    })
    assert.equal(acted.response.status, 200, JSON.stringify(acted.body))
    assert.deepEqual(decodeJwt(acted.body.access_token as string).act, { sub: String(service.client.serviceAccountId) })
    const foreignActor = await exchange(agent, {
      subject_token: await subjectToken(),
      actor_token: own.body.access_token as string,
      actor_token_type: ACCESS_TOKEN_TYPE_URI,
    })
    assert.equal(foreignActor.body.error, 'invalid_grant')
  })

  it('narrows resource and audience, never widens them or the scope', async () => {
    // A service client's token is bound to a resource as it asks (RFC 8707).
    const sync = await seedClient(server.ctx, ada, { name: 'Sync', isService: true, redirectUris: [] })
    const bound = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', resource: NOTES, scope: 'notes read' },
      { authorization: basicAuth(sync.id, sync.secret) },
    )
    const subject = bound.body.access_token as string
    assert.equal(decodeJwt(subject).aud, NOTES)
    const narrowed = await exchange(agent, { subject_token: subject, audience: NOTES, scope: 'notes' })
    assert.equal(narrowed.response.status, 200, JSON.stringify(narrowed.body))
    assert.equal(decodeJwt(narrowed.body.access_token as string).aud, NOTES)
    assert.equal(narrowed.body.scope, 'notes')
    const widerResource = await exchange(agent, { subject_token: subject, resource: FILES })
    assert.equal(widerResource.body.error, 'invalid_target')
    const widerAudience = await exchange(agent, { subject_token: subject, audience: FILES })
    assert.equal(widerAudience.body.error, 'invalid_target')
    const widerScope = await exchange(agent, { subject_token: subject, scope: 'notes write' })
    assert.equal(widerScope.body.error, 'invalid_scope')
    assert.equal(widerScope.body.access_token, undefined)
  })

  it('dies with the subject grant: revoking the first app on Team apps ends the exchanged tokens, and its tokens are no longer exchanged', async () => {
    const other = await seedClient(server.ctx, ada, { isFirstParty: true })
    const { body } = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'password', username: 'ada@example.com', password: 'correct horse battery' },
      { authorization: basicAuth(other.id, other.secret) },
    )
    const subject = body.access_token as string
    const exchanged = (await exchange(agent, { subject_token: subject })).body.access_token as string
    const chained = (await exchange(tool, { subject_token: exchanged })).body.access_token as string
    assert.equal((await me(exchanged)).status, 200)
    assert.equal((await me(chained)).status, 200)
    await revokeTeamApp(
      server.ctx.db,
      server.ctx.activity,
      { clientId: other.id, teamId: ada.team!.id, by: { userId: ada.user.id, role: 'owner' } },
      Date.now(),
    )
    assert.equal((await me(exchanged)).status, 401)
    assert.equal((await me(chained)).status, 401)
    const again = await exchange(agent, { subject_token: subject })
    assert.equal(again.response.status, 400)
    assert.equal(again.body.error, 'invalid_grant')
    assert.equal(again.body.access_token, undefined)
  })

  it('revoking the subject refresh token ends the exchanged token too', async () => {
    const { body } = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'password', username: 'ada@example.com', password: 'correct horse battery' },
      { authorization: basicAuth(app.id, app.secret) },
    )
    const exchanged = (await exchange(agent, { subject_token: body.access_token as string })).body.access_token as string
    await postOAuth(server, '/oauth/revoke', { token: body.refresh_token as string }, { authorization: basicAuth(app.id, app.secret) })
    assert.equal((await me(exchanged)).status, 401)
  })

  it('refuses clients an operator did not allow, bad token types and tokens Gatehouse did not issue', async () => {
    const plain = await seedClient(server.ctx, ada)
    const refused = await exchange(plain, { subject_token: await subjectToken() })
    assert.equal(refused.response.status, 400)
    assert.equal(refused.body.error, 'unauthorized_client')
    const wrongType = await exchange(agent, { subject_token: await subjectToken(), subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' })
    assert.equal(wrongType.body.error, 'invalid_request')
    const forged = await exchange(agent, { subject_token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.' })
    assert.equal(forged.body.error, 'invalid_grant')
    const missing = await exchange(agent, {})
    assert.equal(missing.body.error, 'invalid_request')
  })
})
