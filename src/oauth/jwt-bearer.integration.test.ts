import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, it } from 'node:test'
import { decodeJwt, SignJWT } from 'jose'
import * as oidc from 'openid-client'
import { insertTrustedIssuer } from '../db/trusted-issuers.js'
import { createResource } from '../resources/resources.js'
import { forEachDialect } from '../testing/dialects.js'
import { seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { basicAuth, postOAuth } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { ID_JAG_TYPE, JWT_BEARER_GRANT } from './grants/jwt-bearer.js'

const NOTES = 'https://notes.example.com/mcp'
const IDP = 'https://idp.example.com'

/**
 * Enterprise-managed authorization: the JWT bearer grant (RFC 7523 §2.1)
 * with an identity assertion from an identity provider an operator trusts
 * for a team, driven by openid-client's genericGrantRequest, unmodified;
 * the provider's keys are fetched from its jwks_uri through the outbound guard.
 */
await forEachDialect('JWT bearer grant with identity assertions', (dialect) => {
  let server: TestServer
  let keys: Server
  let ada: SeededUser
  let agent: SeededClient
  const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' })

  before(async () => {
    keys = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ keys: [{ ...idp.publicKey.export({ format: 'jwk' }), kid: 'idp-1', alg: 'ES256', use: 'sig' }] }))
    })
    await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve))
    const port = (keys.address() as AddressInfo).port
    server = await startTestServer(dialect, { outboundAllowedHosts: [`127.0.0.1:${port}`] })
    ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada', team: 'Engines' })
    agent = await seedClient(server.ctx, ada, { name: 'Agent' })
    await createResource(server.ctx.db, server.url, { uri: NOTES, name: 'Notes', scopes: ['notes'] }, Date.now())
    await insertTrustedIssuer(server.ctx.db.kysely, { issuer: IDP, jwksUri: `http://127.0.0.1:${port}/jwks`, teamId: ada.team!.id, createdAt: Date.now() })
  })
  after(async () => {
    await server.stop()
    await new Promise((resolve) => keys.close(resolve))
  })

  const assertion = (claims: Record<string, unknown> = {}, options: { typ?: string; key?: typeof idp; lifetime?: number; iat?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({
      iss: IDP,
      aud: server.ctx.config.issuer,
      sub: 'ada-at-idp',
      iat: options.iat ?? now,
      exp: now + (options.lifetime ?? 120),
      jti: randomUUID(),
      client_id: agent.id,
      email: 'ada@example.com',
      resource: NOTES,
      scope: 'notes read',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: options.typ ?? ID_JAG_TYPE })
      .sign((options.key ?? idp).privateKey)
  }

  const grant = (jwt: string, client = agent) =>
    postOAuth(server, '/oauth/token', { grant_type: JWT_BEARER_GRANT, assertion: jwt }, { authorization: basicAuth(client.id, client.secret) })

  it('openid-client genericGrantRequest gets a token for the asserted user, in the trusted team, bound to the resource', async () => {
    const config = await oidc.discovery(new URL(server.url), agent.id, undefined, oidc.ClientSecretBasic(agent.secret), {
      execute: [oidc.allowInsecureRequests],
    })
    assert.ok(config.serverMetadata().grant_types_supported?.includes(JWT_BEARER_GRANT))
    const tokens = await oidc.genericGrantRequest(config, JWT_BEARER_GRANT, { assertion: await assertion() })
    assert.equal(tokens.refresh_token, undefined)
    assert.equal(tokens.scope, 'notes read')
    const claims = decodeJwt(tokens.access_token)
    assert.equal(claims.sub, String(ada.user.id))
    assert.equal(claims.team_id, ada.team!.id)
    assert.equal(claims.aud, NOTES)
    await server.ctx.activity.flush()
    const logged = await server.ctx.db.kysely
      .selectFrom('activities')
      .select(['user_id', 'detail'])
      .where('action', '=', 'token.issued')
      .where('client_id', '=', agent.id)
      .executeTakeFirstOrThrow()
    assert.deepEqual(logged, { user_id: ada.user.id, detail: `jwt-bearer grant, asserted by ${IDP}` })
  })

  it('takes each assertion once: a replayed jti is invalid_grant', async () => {
    const jwt = await assertion()
    assert.equal((await grant(jwt)).response.status, 200)
    const replayed = await grant(jwt)
    assert.equal(replayed.body.error, 'invalid_grant')
    assert.match(replayed.body.error_description as string, /jti/)
  })

  it('refuses every broken rule with invalid_grant and never a token', async () => {
    const other = await seedClient(server.ctx, ada, { name: 'Other' })
    const now = Math.floor(Date.now() / 1000)
    const cases: [string, Promise<string>, SeededClient?][] = [
      ['wrong typ', assertion({}, { typ: 'JWT' })],
      ['expired', assertion({}, { lifetime: -120 })],
      ['issued in the future', assertion({}, { iat: now + 600, lifetime: 700 })],
      ['exp too far ahead', assertion({}, { lifetime: 3600 })],
      ['wrong aud', assertion({ aud: 'https://elsewhere.example.com' })],
      ['untrusted issuer', assertion({ iss: 'https://evil.example.com' })],
      ['a key the issuer did not publish', assertion({}, { key: stranger })],
      ['client_id mismatch', assertion(), other],
      ['unknown email', assertion({ email: 'nobody@example.com' })],
      ['unknown resource', assertion({ resource: 'https://unknown.example.com/' })],
    ]
    for (const [name, jwt, client] of cases) {
      const { response, body } = await grant(await jwt, client)
      assert.equal(response.status, 400, `${name}: ${JSON.stringify(body)}`)
      assert.equal(body.error, 'invalid_grant', name)
      assert.equal(body.access_token, undefined, name)
    }
  })
})
