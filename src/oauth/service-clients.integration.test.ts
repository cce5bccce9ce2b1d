import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, it } from 'node:test'
import { decodeJwt } from 'jose'
import * as oidc from 'openid-client'
import { authenticate } from '../accounts/login.js'
import { deleteClient } from '../clients/clients.js'
import { Refusal } from '../messages.js'
import { createResource } from '../resources/resources.js'
import { forEachDialect } from '../testing/dialects.js'
import { seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { basicAuth, postOAuth } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { revokeTeamApp } from './team-apps.js'

const NOTES = 'https://notes.example.com/mcp'

/**
 * Service clients (a third kind beside confidential and public) and
 * client_credentials (RFC 6749 §4.4), driven by openid-client, unmodified:
 * the token acts as the client's service account in its team.
 */
await forEachDialect('service clients and client_credentials', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let service: SeededClient

  before(async () => {
    server = await startTestServer(dialect)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
    service = await seedClient(server.ctx, ada, { name: 'Nightly sync', isService: true, redirectUris: [] })
    await createResource(server.ctx.db, server.url, { uri: NOTES, name: 'Notes', scopes: ['notes'] }, Date.now())
  })
  after(() => server.stop())

  const discover = (clientId: string, auth: oidc.ClientAuth) =>
    oidc.discovery(new URL(server.url), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] })

  const me = (token: string) => fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${token}` } })

  it('openid-client clientCredentialsGrant gets a token without a refresh token; GET /api/v2/me answers with the service account', async () => {
    const config = await discover(service.id, oidc.ClientSecretBasic(service.secret))
    assert.ok(config.serverMetadata().grant_types_supported?.includes('client_credentials'))
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read' })
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(tokens.scope, 'read')
    assert.equal(tokens.refresh_token, undefined)
    const response = await me(tokens.access_token)
    assert.equal(response.status, 200)
    const body = (await response.json()) as Record<string, unknown>
    assert.equal(body.object, 'user')
    assert.equal(body.name, 'Nightly sync')
    assert.equal(body.is_service_account, true)
    assert.equal(body.id, service.client.serviceAccountId)

    await server.ctx.activity.flush()
    const issued = await server.ctx.db.kysely
      .selectFrom('activities')
      .select(['user_id', 'team_id', 'detail'])
      .where('action', '=', 'token.issued')
      .where('client_id', '=', service.id)
      .executeTakeFirstOrThrow()
    assert.deepEqual(issued, { user_id: service.client.serviceAccountId, team_id: ada.team!.id, detail: 'client_credentials grant' })
  })

  it('says is_service_account: false for a person', async () => {
    const app = await seedClient(server.ctx, ada, { isFirstParty: true })
    const { body } = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'password', username: 'ada@example.com', password: 'correct horse battery' },
      {
        authorization: basicAuth(app.id, app.secret),
      },
    )
    const user = (await (await me(body.access_token as string)).json()) as Record<string, unknown>
    assert.equal(user.is_service_account, false)
  })

  it('binds the token to a resource (RFC 8707) and refuses unknown resources and scopes', async () => {
    const auth = { authorization: basicAuth(service.id, service.secret) }
    const bound = await postOAuth(server, '/oauth/token', { grant_type: 'client_credentials', resource: NOTES, scope: 'notes' }, auth)
    assert.equal(bound.response.status, 200, JSON.stringify(bound.body))
    assert.equal(decodeJwt(bound.body.access_token as string).aud, NOTES)
    const target = await postOAuth(server, '/oauth/token', { grant_type: 'client_credentials', resource: 'https://unknown.example.com/' }, auth)
    assert.equal(target.body.error, 'invalid_target')
    const scope = await postOAuth(server, '/oauth/token', { grant_type: 'client_credentials', scope: 'launch-missiles' }, auth)
    assert.equal(scope.body.error, 'invalid_scope')
    const openid = await postOAuth(server, '/oauth/token', { grant_type: 'client_credentials', scope: 'openid' }, auth)
    assert.equal(openid.body.error, 'invalid_scope')
  })

  it('refuses client_credentials to clients of the other kinds: unauthorized_client', async () => {
    const confidential = await seedClient(server.ctx, ada)
    const refused = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(confidential.id, confidential.secret) },
    )
    assert.equal(refused.response.status, 400)
    assert.equal(refused.body.error, 'unauthorized_client')
    const publicClient = await seedClient(server.ctx, ada, { isConfidential: false })
    const refusedPublic = await postOAuth(server, '/oauth/token', { grant_type: 'client_credentials', client_id: publicClient.id })
    assert.equal(refusedPublic.body.error, 'unauthorized_client')
  })

  it('the service account cannot log in, and is listed as a member of exactly its team', async () => {
    const account = await server.ctx.db.kysely.selectFrom('users').selectAll().where('id', '=', service.client.serviceAccountId!).executeTakeFirstOrThrow()
    assert.equal(account.password_hash, '')
    await assert.rejects(
      authenticate(server.ctx.db, server.ctx.activity, account.email, '', '203.0.113.9', Date.now(), server.ctx.config.loginThrottle),
      (err: unknown) => err instanceof Refusal && err.code === 'invalid_credentials',
    )
    const password = await postOAuth(server, '/oauth/token', { grant_type: 'password', username: account.email, password: 'anything at all' })
    assert.notEqual(password.response.status, 200)
    const memberships = await server.ctx.db.kysely.selectFrom('memberships').select(['team_id', 'role']).where('user_id', '=', account.id).execute()
    assert.deepEqual(memberships, [{ team_id: ada.team!.id, role: 'member' }])
  })

  it('revoking the client on Team apps ends its tokens at once, through the verified-token cache too', async () => {
    const config = await discover(service.id, oidc.ClientSecretPost(service.secret))
    const { access_token } = await oidc.clientCredentialsGrant(config)
    assert.equal((await me(access_token)).status, 200)
    await revokeTeamApp(
      server.ctx.db,
      server.ctx.activity,
      { clientId: service.id, teamId: ada.team!.id, by: { userId: ada.user.id, role: 'owner' } },
      Date.now(),
    )
    assert.equal((await me(access_token)).status, 401)
  })

  it('deleting the client ends its tokens at once and removes its service account', async () => {
    const doomed = await seedClient(server.ctx, ada, { name: 'Doomed job', isService: true, redirectUris: [] })
    const config = await discover(doomed.id, oidc.ClientSecretBasic(doomed.secret))
    const { access_token } = await oidc.clientCredentialsGrant(config)
    assert.equal((await me(access_token)).status, 200)
    await deleteClient(server.ctx.db, doomed.id)
    assert.equal((await me(access_token)).status, 401)
    const account = await server.ctx.db.kysely.selectFrom('users').select('id').where('id', '=', doomed.client.serviceAccountId!).executeTakeFirst()
    assert.equal(account, undefined)
  })

  it('openid-client PrivateKeyJwt: a service client with a registered key gets tokens, introspects and revokes with its assertion', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }
    const keyed = await seedClient(server.ctx, ada, { isService: true, redirectUris: [], tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } })
    assert.equal(keyed.secret, '', 'a private_key_jwt client has no secret')
    const cryptoKey = await crypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ format: 'der', type: 'pkcs8' }),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    )
    const config = await discover(keyed.id, oidc.PrivateKeyJwt({ key: cryptoKey, kid: 'k1' }))
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'read' })
    assert.equal((await me(tokens.access_token)).status, 200)
    const introspected = await oidc.tokenIntrospection(config, tokens.access_token)
    assert.equal(introspected.active, true)
    await oidc.tokenRevocation(config, tokens.access_token)
    assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false)

    // The secret methods are refused to a client registered for private_key_jwt.
    const secretTry = await postOAuth(server, '/oauth/token', { grant_type: 'client_credentials', client_id: keyed.id, client_secret: 'guess' })
    assert.equal(secretTry.body.error, 'invalid_client')
  })
})
