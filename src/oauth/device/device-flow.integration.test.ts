import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachDialect } from '../../testing/dialects.js'
import { seedClient, seedUser, type SeededClient, type SeededUser } from '../../testing/fixtures.js'
import { escapeHtml, hiddenFields, plainText, testIdTexts } from '../../testing/html.js'
import type { HttpClient } from '../../testing/http-client.js'
import { basicAuth, browserFor, type Json } from '../../testing/oauth.js'
import { meStatus } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'
import { enrolApp } from '../../testing/totp.js'
import { setTeamRequiresTwoFactor } from '../../db/teams.js'
import { MESSAGES } from '../../messages.js'
import { pruneExpired } from '../../tokens/prune.js'
import { revokeTeamApp, teamApps } from '../team-apps.js'
import { DEVICE_CODE_GRANT } from './authorization.js'

async function post(
  server: TestServer,
  path: string,
  form: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const body = new URLSearchParams()
  for (const [name, value] of Object.entries(form)) for (const v of [value].flat()) body.append(name, v)
  const response = await fetch(new URL(path, server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: body.toString(),
  })
  return { status: response.status, body: (await response.json()) as Json }
}

await forEachDialect('device authorization grant (RFC 8628)', (dialect) => {
  let server: TestServer
  let now = Date.now()
  let ada: SeededUser
  let cli: SeededClient
  let browser: HttpClient

  before(async () => {
    server = await startTestServer(dialect, { clientRegistration: 'open' }, () => now)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    cli = await seedClient(server.ctx, ada, { name: 'Engine CLI', isConfidential: false })
    browser = await browserFor(server, ada.user)
  })
  after(() => server.stop())

  const start = async (client = cli, extra: Record<string, string | string[]> = {}) => {
    const answer = await post(server, '/oauth/device_authorization', { client_id: client.id, ...extra })
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    return answer.body as {
      device_code: string
      user_code: string
      verification_uri: string
      verification_uri_complete: string
      expires_in: number
      interval: number
    }
  }
  const poll = (deviceCode: string, client = cli) =>
    post(server, '/oauth/token', { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: client.id })
  const wait = (seconds: number) => {
    now += seconds * 1000
  }
  /** The consent page for the code, and the decision posted from it. */
  const decide = async (userCode: string, decision: 'approve' | 'deny') => {
    const page = await browser.get(`/device?user_code=${encodeURIComponent(userCode)}`)
    assert.equal(page.status, 200)
    const fields = hiddenFields(await page.text(), '/device')
    return browser.postForm('/device', { ...fields, decision })
  }

  it('answers a device with codes as RFC 8628 §3.2 says, and the metadata names the endpoint and the grant', async () => {
    const started = await start()
    assert.match(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
    assert.equal(started.verification_uri, `${server.url}/device`)
    assert.equal(started.verification_uri_complete, `${server.url}/device?user_code=${started.user_code}`)
    assert.equal(started.expires_in, 600)
    assert.equal(started.interval, 5)
    assert.ok(started.device_code.length >= 40)
    const metadata = (await (await fetch(new URL('/.well-known/oauth-authorization-server', server.url))).json()) as Json
    assert.equal(metadata.device_authorization_endpoint, `${server.url}/oauth/device_authorization`)
    assert.ok((metadata.grant_types_supported as string[]).includes(DEVICE_CODE_GRANT))
  })

  it('polls pending, slows a device down by 5 s per early poll, and redeems the approval once', async () => {
    const started = await start(cli, { scope: 'read' })
    assert.equal((await poll(started.device_code)).body.error, 'authorization_pending')
    const early = await poll(started.device_code)
    assert.equal(early.status, 400)
    assert.equal(early.body.error, 'slow_down', 'polled at once')
    wait(9)
    assert.equal((await poll(started.device_code)).body.error, 'slow_down', 'the interval is 10 s now')
    wait(15)
    assert.equal((await poll(started.device_code)).body.error, 'authorization_pending', 'the interval is 15 s now')

    // The code typed in lower case and without the dash finds the request.
    const page = await browser.get(`/device?user_code=${started.user_code.replace('-', '').toLowerCase()}`)
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(plainText(html), /Is this the code on your device\?/)
    assert.deepEqual(testIdTexts(html, 'user-code'), [started.user_code])
    assert.deepEqual(testIdTexts(html, 'client-name'), ['Engine CLI'])
    assert.deepEqual(testIdTexts(html, 'consent-team'), ['Engines'])
    assert.match(plainText(html), /read : Read your account/)
    const done = await browser.postForm('/device', { ...hiddenFields(html, '/device'), decision: 'approve' })
    assert.equal(done.status, 200)
    assert.match(plainText(await done.text()), /Engine CLI is connected to your account in Engines/)

    wait(15)
    const tokens = await poll(started.device_code)
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body))
    assert.equal(tokens.body.token_type, 'Bearer')
    assert.equal(tokens.body.scope, 'read')
    assert.equal(typeof tokens.body.refresh_token, 'string')
    assert.equal(await meStatus(server, tokens.body.access_token as string), 200)
    assert.deepEqual(
      (await teamApps(server.ctx.db, ada.team!.id)).map((a) => a.name),
      ['Engine CLI'],
      'on Team apps, where it can be revoked',
    )

    wait(15)
    const again = await poll(started.device_code)
    assert.equal(again.status, 400)
    assert.equal(again.body.error, 'invalid_grant', 'a device code is redeemed once')
    assert.equal(await meStatus(server, tokens.body.access_token as string), 401, 'a replayed device code ends the tokens it gave')
  })

  it('answers access_denied once the user denies, and the code cannot be approved afterwards', async () => {
    const started = await start()
    const denied = await decide(started.user_code, 'deny')
    assert.equal(denied.status, 200)
    assert.match(plainText(await denied.text()), /You denied access/)
    const answer = await poll(started.device_code)
    assert.equal(answer.status, 400)
    assert.equal(answer.body.error, 'access_denied')
    const page = await browser.get(`/device?user_code=${started.user_code}`)
    assert.equal(page.status, 400, 'no longer waiting for a decision')
  })

  it('answers expired_token after ten minutes, and the page no longer finds the code', async () => {
    const started = await start()
    wait(601)
    const answer = await poll(started.device_code)
    assert.equal(answer.status, 400)
    assert.equal(answer.body.error, 'expired_token')
    const page = await browser.get(`/device?user_code=${started.user_code}`)
    assert.equal(page.status, 400)
    assert.deepEqual(testIdTexts(await page.text(), 'device-error').length, 1)
  })

  it('refuses a wrong device code, and one issued to another client, with invalid_grant', async () => {
    const started = await start()
    const wrong = await poll('not-a-device-code')
    assert.equal(wrong.status, 400)
    assert.equal(wrong.body.error, 'invalid_grant')
    const other = await seedClient(server.ctx, ada, { name: 'Other CLI', isConfidential: false })
    const stolen = await poll(started.device_code, other)
    assert.equal(stolen.body.error, 'invalid_grant')
  })

  it('holds confidential clients to their secret, and checks scope and resource as authorize does', async () => {
    const confidential = await seedClient(server.ctx, ada, { name: 'Engine daemon' })
    const byIdAlone = await post(server, '/oauth/device_authorization', { client_id: confidential.id })
    assert.equal(byIdAlone.status, 401)
    assert.equal(byIdAlone.body.error, 'invalid_client')
    const authenticated = await post(
      server,
      '/oauth/device_authorization',
      { scope: 'read write' },
      { authorization: basicAuth(confidential.id, confidential.secret) },
    )
    assert.equal(authenticated.status, 200)
    const badScope = await post(server, '/oauth/device_authorization', { client_id: cli.id, scope: 'sudo' })
    assert.equal(badScope.body.error, 'invalid_scope')
    const badResource = await post(server, '/oauth/device_authorization', { client_id: cli.id, resource: 'https://nowhere.example/api' })
    assert.equal(badResource.body.error, 'invalid_target')
    const inQuery = await fetch(new URL(`/oauth/token?device_code=x`, server.url), { method: 'POST' })
    assert.equal(inQuery.status, 400, 'a device code is a credential and never travels in the query string')
  })

  it('holds a client that registered itself to the grant types it declared (RFC 7591 §2), and marks it unverified on the page', async () => {
    const register = async (grantTypes: string[]) => {
      const response = await fetch(new URL('/oauth/register', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Self CLI', redirect_uris: ['http://127.0.0.1/cb'], grant_types: grantTypes, token_endpoint_auth_method: 'none' }),
      })
      assert.equal(response.status, 201)
      return ((await response.json()) as { client_id: string }).client_id
    }
    const codeOnly = await register(['authorization_code'])
    const refused = await post(server, '/oauth/device_authorization', { client_id: codeOnly })
    assert.equal(refused.status, 400)
    assert.equal(refused.body.error, 'unauthorized_client')

    const declared = await register(['authorization_code', DEVICE_CODE_GRANT])
    const started = await post(server, '/oauth/device_authorization', { client_id: declared })
    assert.equal(started.status, 200)
    const html = await (await browser.get(`/device?user_code=${started.body.user_code as string}`)).text()
    assert.equal(testIdTexts(html, 'unverified-client').length, 1)
  })

  it('binds the token to the resource the device asked for (RFC 8707)', async () => {
    const api = `${server.url}/api/v2`
    const started = await start(cli, { resource: api })
    await decide(started.user_code, 'approve')
    const tokens = await poll(started.device_code)
    assert.equal(tokens.status, 200)
    const payload = JSON.parse(Buffer.from((tokens.body.access_token as string).split('.')[1]!, 'base64url').toString()) as Json
    assert.deepEqual([payload.aud].flat(), [api])
  })

  it('ends an approval not yet redeemed when the app is revoked on Team apps', async () => {
    const started = await start()
    await decide(started.user_code, 'approve')
    await revokeTeamApp(server.ctx.db, server.ctx.activity, { clientId: cli.id, teamId: ada.team!.id, by: { userId: ada.user.id, role: 'owner' } }, now)
    const answer = await poll(started.device_code)
    assert.equal(answer.body.error, 'invalid_grant')
  })

  it('sends a signed-out user to log in and back to the code; refuses a decision without the CSRF token', async () => {
    const started = await start()
    const anonymous = await fetch(new URL(`/device?user_code=${started.user_code.toLowerCase()}`, server.url), { redirect: 'manual' })
    assert.equal(anonymous.status, 303)
    assert.equal(anonymous.headers.get('location'), `/login?return_to=${encodeURIComponent(`/device?user_code=${started.user_code}`)}`)
    const page = await browser.get(`/device?user_code=${started.user_code}`)
    const fields = hiddenFields(await page.text(), '/device')
    const forged = await browser.postForm('/device', { ...fields, _csrf: 'forged', decision: 'approve' })
    assert.equal(forged.status, 403)
    assert.equal((await poll(started.device_code)).body.error, 'authorization_pending', 'nothing was approved')
    const framed = await browser.get('/device')
    assert.match(framed.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
  })

  it('approves a device for a team that requires two-factor sign-in only from a session signed in with it', async () => {
    const grace = await seedUser(server.ctx.db, 'grace@example.com', { team: 'Vault' })
    await setTeamRequiresTwoFactor(server.ctx.db.kysely, grace.team!.id, true, now)
    const graceBrowser = await browserFor(server, grace.user)
    const started = await start()
    const page = `/device?user_code=${started.user_code}`
    const withoutFactor = await graceBrowser.get(page)
    assert.equal(withoutFactor.status, 403)
    assert.match(await withoutFactor.text(), new RegExp(escapeHtml(MESSAGES.two_factor_needed_for_app).replace(/[().]/g, '\\$&')))
    await enrolApp(server.ctx, grace.user)
    const passwordOnly = await graceBrowser.get(page)
    assert.equal(passwordOnly.status, 303)
    assert.equal(passwordOnly.headers.get('location'), `/login/code?return_to=${encodeURIComponent(page)}`)
    assert.equal((await poll(started.device_code)).body.error, 'authorization_pending', 'nothing was approved')
  })

  it('escapes the client name on the page', async () => {
    const sly = await seedClient(server.ctx, ada, { name: '<script>alert(1)</script>', isConfidential: false })
    const started = await start(sly)
    const html = await (await browser.get(`/device?user_code=${started.user_code}`)).text()
    assert.doesNotMatch(html, /<script>alert/)
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
  })

  it('prunes expired device codes', async () => {
    await start()
    wait(601)
    const counts = await pruneExpired(server.ctx)
    assert.ok(counts.device_authorizations >= 1)
  })

  // Last: the throttle counts for every test's address.
  it('throttles guessing codes per address, then refuses even a right one', async () => {
    const started = await start()
    let status = 0
    for (let i = 0; i < 25 && status !== 429; i++) status = (await browser.get(`/device?user_code=BCDF-GHJ${'KLMNPQRSTVWXZ'[i % 13]}`)).status
    assert.equal(status, 429)
    const right = await browser.get(`/device?user_code=${started.user_code}`)
    assert.equal(right.status, 429)
    assert.match(plainText(await right.text()), /Too many codes/)
  })
})
