import assert from 'node:assert/strict'
import Fastify from 'fastify'
import * as oauth from 'oauth4webapi'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { User } from '../accounts/types.js'
import { rotateSigningKey } from '../keys/signing-keys.js'
import { createPersonalAccessToken } from '../tokens/personal-access-tokens.js'
import { REDIRECT, seedClient, seedUser } from '../testing/fixtures.js'
import { browserFor, codeExchange, codeFor, postOAuth, redeemCode, type IssuedTokens } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { createResource } from '../resources/resources.js'
import {
  bearerChallenge,
  createTokenVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  TokenRejectedError,
  type TokenVerifier,
} from './index.js'

describe('resource-server kit against a running Gatehouse', () => {
  let server: TestServer
  let user: User
  let teamId: number
  let app: { id: string; secret: string }
  let service: { id: string; secret: string }

  async function accessToken(): Promise<IssuedTokens> {
    const code = await codeFor(await browserFor(server, user), { client_id: app.id, redirect_uri: REDIRECT, response_type: 'code' })
    return redeemCode(server, app, code)
  }

  function verifier(extra: Partial<Parameters<typeof createTokenVerifier>[0]> = {}): TokenVerifier {
    return createTokenVerifier({ issuer: server.ctx.config.issuer, clientId: service.id, clientSecret: service.secret, introspectionCacheMs: 0, ...extra })
  }

  before(async () => {
    server = await startTestServer('sqlite')
    const created = await seedUser(server.ctx.db, 'rs@example.com', { team: 'RS team' })
    user = created.user
    teamId = created.team!.id
    app = await seedClient(server.ctx, created, { name: 'Integrator' })
    service = await seedClient(server.ctx, created, { name: 'Billing API', isFirstParty: true })
  })
  after(() => server.stop())

  it('accepts a live access token and tells its user, team and client', async () => {
    const { access_token } = await accessToken()
    const verified = await verifier().verifyAuthorizationHeader(`Bearer ${access_token}`)
    const { authentication, ...rest } = verified
    assert.deepEqual(
      { ...rest, expiresAt: 0 },
      { kind: 'oauth_access_token', userId: user.id, teamId, clientId: app.id, scopes: [], audience: [app.id], expiresAt: 0 },
    )
    // Signed in with the password in the browser: RFC 9068 §2.2.1's claims, as introspection returns them.
    assert.deepEqual({ ...authentication, authTime: 0 }, { acr: 'urn:gatehouse:acr:password', amr: ['pwd'], authTime: 0 })
    assert.ok(Number.isSafeInteger(authentication?.authTime))
  })

  it('refuses a revoked token although its signature is valid', async () => {
    const { access_token } = await accessToken()
    const check = verifier()
    await check.verify(access_token)
    await postOAuth(server, '/oauth/revoke', { token: access_token, client_id: app.id, client_secret: app.secret })
    await assert.rejects(check.verify(access_token), TokenRejectedError)
  })

  it('reuses an introspection answer for the cache period only', async () => {
    const { access_token } = await accessToken()
    const check = verifier({ introspectionCacheMs: 300 })
    await check.verify(access_token)
    await postOAuth(server, '/oauth/revoke', { token: access_token, client_id: app.id, client_secret: app.secret })
    await check.verify(access_token)
    await sleep(350)
    await assert.rejects(check.verify(access_token), TokenRejectedError)
  })

  it('fetches the key set again for a kid it has not seen, after a key rotation', async () => {
    const check = verifier()
    await check.verify((await accessToken()).access_token)
    await rotateSigningKey(server.ctx.db, server.ctx.keys.encryption, server.ctx.config.signingAlg, Date.now())
    // The server's key ring re-reads keys on a timer; make it sign with the new key now.
    await server.ctx.keyRing.reload()
    // The kit fetches the key set at most once a second.
    await sleep(1100)
    const fresh = (await accessToken()).access_token
    const kid = JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid as string
    const jwks = (await (await fetch(`${server.url}/oauth/jwks`)).json()) as { keys: { kid: string }[] }
    assert.ok(jwks.keys.some((k) => k.kid === kid))
    assert.ok(jwks.keys.length >= 2)
    await check.verify(fresh)
  })

  it('checks the audience when given one', async () => {
    const { access_token } = await accessToken()
    await verifier({ audience: app.id }).verify(access_token)
    await assert.rejects(verifier({ audience: 'another-client' }).verify(access_token), TokenRejectedError)
  })

  it('with audience set to its resource URI, accepts only tokens bound to it (RFC 8707, RFC 9068 §4)', async () => {
    const mine = 'https://billing.example.com/mcp'
    const theirs = 'https://other.example.com/mcp'
    for (const uri of [mine, theirs]) await createResource(server.ctx.db, server.ctx.config.issuer, { uri, name: uri, scopes: [] }, Date.now())
    const bound = async (resource: string) => {
      const browser = await browserFor(server, user)
      const code = await codeFor(browser, { client_id: app.id, redirect_uri: REDIRECT, response_type: 'code', resource, prompt: 'consent' })
      const { body } = await codeExchange(server, app, code, { resource })
      return String(body.access_token)
    }
    const metadataUrl = protectedResourceMetadataUrl(mine)
    const check = verifier({ audience: mine, resourceMetadataUrl: metadataUrl })
    assert.deepEqual((await check.verify(await bound(mine))).audience, [mine])
    await assert.rejects(
      check.verify(await bound(theirs)),
      (err: unknown) => err instanceof TokenRejectedError && err.error === 'invalid_token' && err.challenge.includes(`resource_metadata="${metadataUrl}"`),
    )
    await assert.rejects(check.verify((await accessToken()).access_token), TokenRejectedError)
    const { token } = await createPersonalAccessToken(server.ctx.db, { userId: user.id, teamId, name: 'not for this service' }, Date.now())
    await assert.rejects(check.verify(token), TokenRejectedError)
  })

  it('builds the RFC 9728 metadata document, its URL, and the challenge header', () => {
    assert.equal(protectedResourceMetadataUrl('https://mcp.example.com/mcp'), 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp')
    assert.equal(protectedResourceMetadataUrl('https://mcp.example.com'), 'https://mcp.example.com/.well-known/oauth-protected-resource')
    assert.deepEqual(
      protectedResourceMetadata({
        resource: 'https://mcp.example.com/mcp',
        issuer: 'https://auth.example.com/',
        scopesSupported: ['files'],
        resourceName: 'Files',
      }),
      {
        resource: 'https://mcp.example.com/mcp',
        authorization_servers: ['https://auth.example.com'],
        bearer_methods_supported: ['header'],
        scopes_supported: ['files'],
        resource_name: 'Files',
      },
    )
    assert.equal(
      bearerChallenge({
        resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
        error: 'insufficient_scope',
        scope: 'files "x"',
      }),
      'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", scope="files x"',
    )
  })

  it('accepts personal access tokens through introspection', async () => {
    const { token } = await createPersonalAccessToken(server.ctx.db, { userId: user.id, teamId, name: 'script' }, Date.now())
    const verified = await verifier().verify(token)
    assert.equal(verified.kind, 'personal_access_token')
    assert.equal(verified.userId, user.id)
    assert.equal(verified.clientId, null)
  })

  it('refuses a refresh token as an access token, with or without an audience (RFC 6749 §1.5, RFC 7662 §2.2 token_type)', async () => {
    const { refresh_token } = await accessToken()
    assert.equal(
      (await postOAuth(server, '/oauth/introspect', { token: refresh_token, client_id: service.id, client_secret: service.secret })).body.active,
      true,
    )
    for (const check of [verifier(), verifier({ audience: app.id })]) {
      await assert.rejects(check.verify(refresh_token), (err: unknown) => err instanceof TokenRejectedError && err.error === 'invalid_token')
    }
  })

  it('refuses garbage and a missing header with the RFC 6750 error codes', async () => {
    await assert.rejects(verifier().verify('a.b.c'), (err: unknown) => err instanceof TokenRejectedError && err.error === 'invalid_token')
    await assert.rejects(
      verifier().verifyAuthorizationHeader(undefined),
      (err: unknown) => err instanceof TokenRejectedError && err.error === 'invalid_request',
    )
  })

  it('protects a Fastify route in a few lines, as the README shows', async () => {
    const check = verifier()
    const resource = Fastify()
    resource.addHook('onRequest', async (request, reply) => {
      try {
        request.token = await check.verifyAuthorizationHeader(request.headers.authorization)
      } catch (err) {
        if (!(err instanceof TokenRejectedError)) throw err
        return reply.code(err.status).header('WWW-Authenticate', err.challenge).send({ error: err.error })
      }
    })
    resource.get('/invoices', async (request) => ({ team: request.token!.teamId }))
    await resource.listen({ port: 0, host: '127.0.0.1' })
    try {
      const address = resource.server.address() as { port: number }
      const ok = await fetch(`http://127.0.0.1:${address.port}/invoices`, { headers: { authorization: `Bearer ${(await accessToken()).access_token}` } })
      assert.deepEqual(await ok.json(), { team: teamId })
      const refused = await fetch(`http://127.0.0.1:${address.port}/invoices`)
      assert.equal(refused.status, 401)
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer /)
    } finally {
      await resource.close()
    }
  })

  it('answers a route that needs more scopes than the token has with 403 insufficient_scope naming them (RFC 6750 §3.1), as oauth4webapi reads it', async () => {
    const metadataUrl = 'https://billing.example.com/.well-known/oauth-protected-resource/v1'
    const check = verifier({ resourceMetadataUrl: metadataUrl })
    const resource = Fastify()
    resource.addHook('onRequest', async (request, reply) => {
      try {
        request.token = await check.verifyAuthorizationHeader(request.headers.authorization, { scopes: request.routeOptions.config.scopes })
      } catch (err) {
        if (!(err instanceof TokenRejectedError)) throw err
        return reply.code(err.status).header('WWW-Authenticate', err.challenge).send({ error: err.error })
      }
    })
    resource.get('/invoices', { config: { scopes: ['read'] } }, async () => ({ invoices: [] }))
    resource.post('/invoices/pay', { config: { scopes: ['read', 'write'] } }, async () => ({ paid: true }))
    await resource.listen({ port: 0, host: '127.0.0.1' })
    try {
      const base = `http://127.0.0.1:${(resource.server.address() as { port: number }).port}`
      const code = await codeFor(await browserFor(server, user), { client_id: app.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'read' })
      const readOnly = (await redeemCode(server, app, code)).access_token
      // The test's service listens on plain http on loopback.
      const request = (token: string, method: string, path: string) =>
        oauth.protectedResourceRequest(token, method, new URL(path, base), undefined, undefined, { [oauth.allowInsecureRequests]: true })
      assert.equal((await request(readOnly, 'GET', '/invoices')).status, 200)
      const refused = await request(readOnly, 'POST', '/invoices/pay').then(
        () => assert.fail('a token without write was let through'),
        (err: unknown) => err,
      )
      assert.ok(refused instanceof oauth.WWWAuthenticateChallengeError, String(refused))
      assert.equal(refused.status, 403)
      assert.deepEqual(refused.cause, [
        {
          scheme: 'bearer',
          parameters: {
            realm: 'gatehouse',
            resource_metadata: metadataUrl,
            error: 'insufficient_scope',
            error_description: 'missing scope: write',
            scope: 'read write',
          },
        },
      ])
      // A token without scopes acts with all of its user's permissions, so every route's scopes are its.
      const all = (await accessToken()).access_token
      assert.equal((await request(all, 'POST', '/invoices/pay')).status, 200)
      const missing = await fetch(`${base}/invoices/pay`, { method: 'POST' })
      assert.equal(missing.status, 401)
    } finally {
      await resource.close()
    }
  })

  it('checks scopes after the request is read, for a check such as an MCP tool call', async () => {
    const check = verifier()
    assert.doesNotThrow(() => check.requireScopes({ scopes: ['notes', 'notes:write'] }, ['notes:write']))
    assert.doesNotThrow(() => check.requireScopes({ scopes: [] }, ['notes:write']))
    assert.throws(
      () => check.requireScopes({ scopes: ['notes'] }, ['notes', 'notes:write']),
      (err: unknown) =>
        err instanceof TokenRejectedError && err.status === 403 && err.challenge.includes('error="insufficient_scope"') && err.scope === 'notes notes:write',
    )
  })
})

declare module 'fastify' {
  interface FastifyRequest {
    token?: import('./index.js').VerifiedToken
  }
  interface FastifyContextConfig {
    /** The scopes a route needs, for the kit to check. */
    scopes?: string[]
  }
}
