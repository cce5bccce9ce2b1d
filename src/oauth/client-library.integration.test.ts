import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import * as oauth from 'oauth4webapi'
import { forEachDialect } from '../testing/dialects.js'
import { PASSWORD, seedClient, seedUser, type SeededUser } from '../testing/fixtures.js'
import { HttpClient, logIn } from '../testing/http-client.js'
import { consentFields, redirectOf } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const REDIRECT = 'https://app.example.com/callback'
// The test server's issuer is http://127.0.0.1:<port>; oauth4webapi insists on https otherwise.
const insecure = { [oauth.allowInsecureRequests]: true } as const

/**
 * panva's oauth4webapi follows the RFCs strictly and checks what servers send
 * (issuer, iss, token_type, content types): an integrator's library that works
 * against Gatehouse unchanged.
 */
await forEachDialect('oauth4webapi against Gatehouse', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let browser: HttpClient
  let as: oauth.AuthorizationServer

  before(async () => {
    server = await startTestServer(dialect)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    browser = new HttpClient(server.url)
    const issuer = new URL(server.url)
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
  })
  after(() => server.stop())

  /** The browser's part: the authorization request, login when asked for, the consent form. */
  async function userApproves(authorizationUrl: URL): Promise<URL> {
    const path = authorizationUrl.pathname + authorizationUrl.search
    let response = await browser.get(path)
    if (response.status === 303) {
      assert.equal((await logIn(browser, 'ada@example.com', PASSWORD, path)).headers.get('location'), path)
      response = await browser.get(path)
    }
    assert.equal(response.status, 200)
    return redirectOf(await browser.postForm('/oauth/authorize', { ...consentFields(await response.text()), decision: 'approve' }))
  }

  it('runs discovery (RFC 8414), the code flow with PKCE and iss (RFC 7636, RFC 9207), refresh, introspection (RFC 7662) and revocation (RFC 7009)', async () => {
    // Discovery ran in before(): processDiscoveryResponse insists that the metadata's issuer is the URL it was fetched for.
    assert.equal(as.issuer, server.ctx.config.issuer)
    assert.equal(as.authorization_response_iss_parameter_supported, true)

    const registered = await seedClient(server.ctx, ada, { name: 'Library App', redirectUris: [REDIRECT] })
    const client: oauth.Client = { client_id: registered.id }
    const clientAuth = oauth.ClientSecretBasic(registered.secret)

    const codeVerifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const authorizationUrl = new URL(as.authorization_endpoint!)
    authorizationUrl.searchParams.set('client_id', client.client_id)
    authorizationUrl.searchParams.set('redirect_uri', REDIRECT)
    authorizationUrl.searchParams.set('response_type', 'code')
    authorizationUrl.searchParams.set('scope', 'read write')
    authorizationUrl.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier))
    authorizationUrl.searchParams.set('code_challenge_method', 'S256')
    authorizationUrl.searchParams.set('state', state)

    const callback = await userApproves(authorizationUrl)
    // Checks iss against the discovered issuer, because the metadata says it is sent.
    const params = oauth.validateAuthResponse(as, client, callback, state)

    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT, codeVerifier, insecure),
    )
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(tokens.expires_in, 31536000)
    assert.equal(tokens.scope, 'read write')
    assert.ok(tokens.refresh_token)

    // What a resource server does with the token (RFC 9068 §4), keys fetched from jwks_uri.
    const claims = await oauth.validateJwtAccessToken(
      as,
      new Request('https://api.example/', { headers: { authorization: `Bearer ${tokens.access_token}` } }),
      client.client_id,
      insecure,
    )
    assert.equal(claims.sub, String(ada.user.id))
    assert.equal(claims.client_id, client.client_id)
    assert.equal(claims.team_id, ada.team!.id)

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, insecure),
    )
    assert.notEqual(refreshed.access_token, tokens.access_token)

    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, clientAuth, token, insecure))
    const active = await introspect(refreshed.access_token)
    assert.equal(active.active, true)
    assert.equal(active.client_id, client.client_id)
    assert.equal(active.scope, 'read write')
    assert.equal((await introspect(tokens.access_token)).active, false, 'the access token replaced by the refresh')

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, insecure))
    assert.equal((await introspect(refreshed.access_token)).active, false, 'revoking the refresh token ends its access token')
    await assert.rejects(
      async () =>
        oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token!, insecure)),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant',
    )
  })

  it('runs the flow for a public client on a loopback port with no client authentication (None) and PKCE (RFC 8252 §8.4)', async () => {
    const registered = await seedClient(server.ctx, ada, { name: 'Native Tool', redirectUris: ['http://127.0.0.1/callback'], isConfidential: false })
    const client: oauth.Client = { client_id: registered.client.id, token_endpoint_auth_method: 'none' }
    const redirectUri = 'http://127.0.0.1:53682/callback'
    const codeVerifier = oauth.generateRandomCodeVerifier()
    const authorizationUrl = new URL(as.authorization_endpoint!)
    authorizationUrl.searchParams.set('client_id', client.client_id)
    authorizationUrl.searchParams.set('redirect_uri', redirectUri)
    authorizationUrl.searchParams.set('response_type', 'code')
    authorizationUrl.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier))
    authorizationUrl.searchParams.set('code_challenge_method', 'S256')

    const params = oauth.validateAuthResponse(as, client, await userApproves(authorizationUrl), oauth.expectNoState)
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, codeVerifier, insecure),
    )
    assert.ok(tokens.access_token && tokens.refresh_token)
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure),
    )
    assert.ok(refreshed.access_token)
  })
})
