import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { THROTTLE } from '../../accounts/login.js'
import { createUser, setDisabled } from '../../accounts/users.js'
import { addMember } from '../../accounts/teams.js'
import { forEachDialect } from '../../testing/dialects.js'
import { formField } from '../../testing/html.js'
import { HttpClient, logIn } from '../../testing/http-client.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const PASSWORD = 'correct horse battery'

await forEachDialect('portal login', (dialect) => {
  let server: TestServer

  before(async () => {
    server = await startTestServer(dialect)
    await createUser(server.ctx.db, { email: 'Ada@Example.com', name: 'Ada', password: PASSWORD, teamName: 'Engines' }, Date.now())
    await createUser(server.ctx.db, { email: 'mallory@example.com', name: 'Mallory <script>', password: PASSWORD, teamName: 'Mallory team' }, Date.now())
  })
  after(() => server.stop())

  it('sends a visitor who is not logged in to the login page and back afterwards', async () => {
    const client = new HttpClient(server.url)
    const home = await client.get('/')
    assert.equal(home.status, 303)
    assert.equal(home.headers.get('location'), '/login?return_to=%2F')
    const login = await logIn(client, 'ada@example.com', PASSWORD, '/?tab=1')
    assert.equal(login.status, 303)
    assert.equal(login.headers.get('location'), '/?tab=1')
    const page = await client.get('/')
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(html, /Welcome, <bdi>Ada<\/bdi>/)
    assert.match(html, /data-testid="active-team"><bdi>Engines<\/bdi></)
  })

  it('logs in with the e-mail in any letter case', async () => {
    const response = await logIn(new HttpClient(server.url), 'ADA@example.COM', PASSWORD)
    assert.equal(response.status, 303)
  })

  it('gives the same status and message for an unknown e-mail and a wrong password', async () => {
    const unknown = await logIn(new HttpClient(server.url), 'nobody@example.com', PASSWORD)
    const wrong = await logIn(new HttpClient(server.url), 'mallory@example.com', 'wrong password!')
    assert.equal(unknown.status, 401)
    assert.equal(wrong.status, 401)
    const message = (html: string) => /role="alert">([^<]*)</.exec(html)?.[1]
    assert.equal(message(await unknown.text()), message(await wrong.text()))
  })

  it('issues a new session id at login and none before it', async () => {
    const client = new HttpClient(server.url)
    client.cookies.set('gatehouse_session', 'planted-by-attacker')
    await logIn(client, 'ada@example.com', PASSWORD)
    const session = client.cookies.get('gatehouse_session')
    assert.ok(session && session !== 'planted-by-attacker')
  })

  it('sets the session cookie HttpOnly and SameSite=Lax', async () => {
    const client = new HttpClient(server.url)
    const page = await client.get('/login')
    const html = await page.text()
    const response = await client.postForm('/login', { email: 'ada@example.com', password: PASSWORD, _csrf: formField(html, '_csrf') })
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('gatehouse_session='))
    assert.ok(cookie)
    assert.match(cookie, /HttpOnly/i)
    assert.match(cookie, /SameSite=Lax/i)
  })

  it('refuses a login form without its CSRF token', async () => {
    const client = new HttpClient(server.url)
    await client.get('/login')
    const response = await client.postForm('/login', { email: 'ada@example.com', password: PASSWORD, _csrf: 'forged' })
    assert.equal(response.status, 403)
    assert.equal(client.cookies.get('gatehouse_session'), undefined)
  })

  it('returns only to local paths after login', async () => {
    for (const target of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      const response = await logIn(new HttpClient(server.url), 'ada@example.com', PASSWORD, target)
      assert.equal(response.headers.get('location'), '/', target)
    }
  })

  it('sends anti-framing, CSP and referrer headers on pages', async () => {
    const response = await new HttpClient(server.url).get('/login')
    assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/)
    assert.equal(response.headers.get('x-frame-options'), 'DENY')
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer')
  })

  it('escapes what users typed when it is shown', async () => {
    const client = new HttpClient(server.url)
    await logIn(client, 'mallory@example.com', PASSWORD)
    const html = await (await client.get('/')).text()
    assert.ok(html.includes('Mallory &lt;script&gt;'))
    assert.ok(!html.includes('Mallory <script>'))
  })

  it('switches the active team only to a team the user belongs to', async () => {
    await createUser(server.ctx.db, { email: 'grace@example.com', name: 'Grace', password: PASSWORD, teamName: 'Compilers' }, Date.now())
    await addMember(server.ctx.db, 'Engines', 'grace@example.com', 'member', Date.now())
    const client = new HttpClient(server.url)
    await logIn(client, 'grace@example.com', PASSWORD)
    const html = await (await client.get('/')).text()
    assert.match(html, /data-testid="active-team"><bdi>Compilers<\/bdi></)
    const engines = /<option value="(\d+)"[^>]*>Engines</.exec(html)?.[1]
    assert.ok(engines)
    const csrf = formField(html, '_csrf')
    const switched = await client.postForm('/team', { team_id: engines, _csrf: csrf, return_to: '/' })
    assert.equal(switched.status, 303)
    assert.match(await (await client.get('/')).text(), /data-testid="active-team"><bdi>Engines<\/bdi></)

    const malloryTeam = (await server.ctx.db.kysely.selectFrom('teams').select('id').where('name', '=', 'Mallory team').executeTakeFirstOrThrow()).id
    const refused = await client.postForm('/team', { team_id: String(malloryTeam), _csrf: csrf })
    assert.equal(refused.status, 403)
    assert.match(await (await client.get('/')).text(), /data-testid="active-team"><bdi>Engines<\/bdi></)
  })

  it('refuses a team switch without the CSRF token', async () => {
    const client = new HttpClient(server.url)
    await logIn(client, 'ada@example.com', PASSWORD)
    const response = await client.postForm('/team', { team_id: '1', _csrf: 'nope' })
    assert.equal(response.status, 403)
  })

  it('logs out: the session stops working', async () => {
    const client = new HttpClient(server.url)
    await logIn(client, 'ada@example.com', PASSWORD)
    const session = client.cookies.get('gatehouse_session')!
    const html = await (await client.get('/')).text()
    const out = await client.postForm('/logout', { _csrf: formField(html, '_csrf') })
    assert.equal(out.status, 303)
    assert.equal(out.headers.get('location'), '/login')
    const replay = await new HttpClient(server.url).get('/', { cookie: `gatehouse_session=${session}` })
    assert.equal(replay.status, 303)
  })

  it('refuses disabled users and ends their sessions', async () => {
    await createUser(server.ctx.db, { email: 'eve@example.com', name: 'Eve', password: PASSWORD }, Date.now())
    const client = new HttpClient(server.url)
    await logIn(client, 'eve@example.com', PASSWORD)
    assert.equal((await client.get('/')).status, 200)
    await setDisabled(server.ctx.db, 'eve@example.com', true, Date.now())
    assert.equal((await client.get('/')).status, 303)
    const again = await logIn(new HttpClient(server.url), 'eve@example.com', PASSWORD)
    assert.equal(again.status, 403)
  })

  it('throttles repeated failures for one account, even with the right password afterwards', async () => {
    await createUser(server.ctx.db, { email: 'target@example.com', name: 'Target', password: PASSWORD }, Date.now())
    for (let i = 0; i < THROTTLE.perAccount; i++) {
      assert.equal((await logIn(new HttpClient(server.url), 'target@example.com', `wrong-${i}-password`)).status, 401)
    }
    const locked = await logIn(new HttpClient(server.url), 'target@example.com', PASSWORD)
    assert.equal(locked.status, 429)
    assert.match(await locked.text(), /Too many failed attempts/)
  })
})
