import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { MESSAGES } from '../messages.js'
import { forEachDialect } from '../testing/dialects.js'
import { PASSWORD, seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { formField } from '../testing/html.js'
import { HttpClient, logIn } from '../testing/http-client.js'
import { postOAuth } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { runGatehouse } from '../testing/spawned.js'
import { enrolApp } from '../testing/totp.js'
import { hasFactor } from './factors.js'

await forEachDialect('two-factor sign-in', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let app: SeededClient

  before(async () => {
    server = await startTestServer(dialect)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    app = await seedClient(server.ctx, ada, { isFirstParty: true })
    await enrolApp(server.ctx, ada.user)
  })
  after(() => server?.stop())

  it('refuses the password grant to a user with a second factor: invalid_grant saying to use the code flow', async () => {
    const { response, body } = await postOAuth(server, '/oauth/token', {
      grant_type: 'password',
      username: ada.user.email,
      password: PASSWORD,
      client_id: app.id,
      client_secret: app.secret,
    })
    assert.equal(response.status, 400)
    assert.equal(body.error, 'invalid_grant')
    assert.match(String(body.error_description), /two-factor.*authorization code flow/)
  })

  it('throttles wrong codes per account and address, and says when to try again; no session before the second step', async () => {
    const browser = new HttpClient(server.url)
    const login = await logIn(browser, ada.user.email, PASSWORD)
    assert.equal(login.status, 303)
    assert.equal(login.headers.get('location'), '/login/code?return_to=%2F')
    assert.equal((await browser.get('/account')).status, 303, 'the password alone opens no page')
    const page = await browser.get('/login/code')
    const csrf = formField(await page.text(), '_csrf')
    const { perAccountAndAddress } = server.ctx.config.loginThrottle
    for (let i = 0; i < perAccountAndAddress; i++) {
      const wrong = await browser.postForm('/login/code', { code: '000000', _csrf: csrf })
      assert.equal(wrong.status, 401)
      assert.match(await wrong.text(), new RegExp(MESSAGES.second_factor_incorrect.slice(0, 30)))
    }
    const throttled = await browser.postForm('/login/code', { code: '000000', _csrf: csrf })
    assert.equal(throttled.status, 429)
    assert.ok(Number(throttled.headers.get('retry-after')) > 0)
    assert.match(await throttled.text(), /Too many wrong codes\. Try again in \d+ minutes?\./)
    await server.ctx.activity.flush()
    const failures = await server.ctx.db.kysely
      .selectFrom('activities')
      .select('id')
      .where('action', '=', 'login.second_factor_failed')
      .where('user_id', '=', ada.user.id)
      .execute()
    assert.equal(failures.length, perAccountAndAddress)
  })

  it('gatehouse users mfa-reset removes every factor and recovery code, records it and mails the user', async () => {
    const settings = { DATABASE_URL: server.ctx.config.databaseUrl, GATEHOUSE_DATA_DIR: server.ctx.config.dataDir, GATEHOUSE_SECRET: server.ctx.config.secret! }
    const run = await runGatehouse(['users', 'mfa-reset', '--email', ada.user.email, '--json'], settings)
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(JSON.parse(run.stdout), { id: ada.user.id, email: ada.user.email, factors_removed: 1 })
    assert.equal(await hasFactor(server.ctx, ada.user.id), false)
    const codes = await server.ctx.db.kysely.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', ada.user.id).execute()
    assert.equal(codes.length, 0)
    const actions = await server.ctx.db.kysely.selectFrom('activities').select(['action', 'detail']).where('user_id', '=', ada.user.id).execute()
    assert.ok(actions.some((a) => a.action === 'factors.reset'))
    assert.ok(actions.some((a) => a.action === 'mail.queued' && a.detail === `factors_reset to ${ada.user.email}`))

    const unknown = await runGatehouse(['users', 'mfa-reset', '--email', 'nobody@example.com'], settings)
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, new RegExp(MESSAGES.user_not_found.slice(0, -1)))
  })
})
