import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, it } from 'node:test'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import { forEachDialect } from '../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { hiddenFields } from '../testing/html.js'
import { authorizePath, browserFor, codeFor } from '../testing/oauth.js'
import { exchangeCode } from '../testing/openid.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const BYE = 'https://app.example/bye'

await forEachDialect('OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let app: SeededClient
  let receiver: Server
  const received: string[] = []
  let arrived: () => void = () => undefined

  before(async () => {
    receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString()))
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('logout_token') ?? '')
        res.writeHead(200).end()
        arrived()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    const port = (receiver.address() as { port: number }).port
    // The receiver is on loopback: only a host the operator allows is called there.
    server = await startTestServer(dialect, { outboundAllowedHosts: ['127.0.0.1'] })
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    app = await seedClient(server.ctx, ada, { postLogoutRedirectUris: [BYE], backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel` })
  })
  after(async () => {
    await server.stop()
    await new Promise((resolve) => receiver.close(resolve))
  })

  async function signedIn() {
    const browser = await browserFor(server, ada.user)
    const code = await codeFor(browser, { client_id: app.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid' })
    const tokens = await exchangeCode(server, { id: app.id, secret: app.secret, redirectUri: REDIRECT }, code)
    return { browser, idToken: String(tokens.id_token) }
  }

  it('with a valid id_token_hint, ends the session, redirects to the registered post-logout URI with state, and the next authorize asks for a login; the client is told by a signed logout token', async () => {
    const { browser, idToken } = await signedIn()
    const delivered = new Promise<void>((resolve) => (arrived = resolve))
    const response = await browser.get(`/oauth/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: BYE, state: 'bye-1' })}`)
    assert.equal(response.status, 303)
    assert.equal(response.headers.get('location'), `${BYE}?state=bye-1`)
    const again = await browser.get(authorizePath({ client_id: app.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid' }))
    assert.equal(again.status, 303)
    assert.match(again.headers.get('location')!, /^\/login\?/)

    await delivered
    const jwks = (await (await fetch(new URL('/oauth/jwks', server.url))).json()) as JSONWebKeySet
    const { payload, protectedHeader } = await jwtVerify(received.at(-1)!, createLocalJWKSet(jwks), {
      issuer: server.ctx.config.issuer,
      audience: app.id,
      typ: 'logout+jwt',
    })
    assert.equal(protectedHeader.typ, 'logout+jwt')
    assert.equal(payload.sub, String(ada.user.id))
    assert.equal(typeof payload.sid, 'string')
    assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} })
    assert.equal('nonce' in payload, false)
  })

  it('without a hint, asks for confirmation (a form with CSRF) and then shows the logged-out page', async () => {
    const { browser } = await signedIn()
    const page = await browser.get('/oauth/logout')
    assert.equal(page.status, 200)
    const fields = hiddenFields(await page.text(), '/oauth/logout')
    assert.ok(fields._csrf)
    assert.equal((await browser.postForm('/oauth/logout', {})).status, 403, 'no CSRF token, no logout')
    const done = await browser.postForm('/oauth/logout', fields)
    assert.equal(done.status, 200)
    assert.match(await done.text(), /You are logged out/)
  })

  it('never redirects to a post-logout URI the client did not register, nor for an id_token_hint that is not ours (no open redirector)', async () => {
    const { browser, idToken } = await signedIn()
    for (const query of <Record<string, string>[]>[
      { id_token_hint: idToken, post_logout_redirect_uri: 'https://attacker.example/' },
      { post_logout_redirect_uri: BYE },
      { id_token_hint: 'not-a-token', post_logout_redirect_uri: BYE },
    ]) {
      const response = await browser.get(`/oauth/logout?${new URLSearchParams(query)}`)
      assert.equal(response.status, 400, JSON.stringify(query))
      assert.equal(response.headers.get('location'), null)
    }
  })
})
