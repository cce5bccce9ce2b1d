import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { activityPage } from '../../activity/list.js'
import { findClient } from '../../clients/clients.js'
import { MESSAGES } from '../../messages.js'
import { ACCESS_TOKEN_TYPE_URI, TOKEN_EXCHANGE_GRANT } from '../../oauth/grants/token-exchange.js'
import { forEachDialect } from '../../testing/dialects.js'
import { seedClient, seedUser, type SeededClient, type SeededUser } from '../../testing/fixtures.js'
import { escapeHtml, formField, testIdTexts } from '../../testing/html.js'
import { basicAuth, browserFor, postOAuth } from '../../testing/oauth.js'
import { pageHtml, postFields, seeOther, submitForm } from '../../testing/portal.js'
import { startTestServer, type TestServer } from '../../testing/server.js'

const escapeRegExp = (text: string) => escapeHtml(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

await forEachDialect('portal: the token-exchange switch of an API client', (dialect) => {
  let server: TestServer
  let olive: SeededUser
  let bea: SeededUser
  let app: SeededClient

  before(async () => {
    server = await startTestServer(dialect)
    olive = await seedUser(server.ctx.db, 'olive@example.com', { name: 'Olive', team: 'Acme' })
    bea = await seedUser(server.ctx.db, 'bea@example.com', { name: 'Bea', team: 'Acme', role: 'member' })
    app = await seedClient(server.ctx, olive, { isFirstParty: true, name: 'Our web app' })
  })
  after(() => server.stop())

  const exchange = async (client: SeededClient) => {
    const subject = await postOAuth(
      server,
      '/oauth/token',
      { grant_type: 'password', username: 'olive@example.com', password: 'correct horse battery' },
      { authorization: basicAuth(app.id, app.secret) },
    )
    assert.equal(subject.response.status, 200, JSON.stringify(subject.body))
    return postOAuth(
      server,
      '/oauth/token',
      { grant_type: TOKEN_EXCHANGE_GRANT, subject_token_type: ACCESS_TOKEN_TYPE_URI, subject_token: subject.body.access_token as string },
      { authorization: basicAuth(client.id, client.secret) },
    )
  }

  it("lets a first-party client's managers allow and stop token exchange, refuses members, and records every change", async () => {
    const agent = await seedClient(server.ctx, olive, { isFirstParty: true, name: 'Our agent' })
    const path = `/settings/clients/${agent.id}`
    const browser = await browserFor(server, olive.user)
    let page = await pageHtml(browser, path)
    assert.match(testIdTexts(page, 'token-exchange-state')[0] ?? '', /^Not allowed/)
    assert.equal((await exchange(agent)).body.error, 'unauthorized_client')

    assert.equal(seeOther(await submitForm(browser, path, `${path}/token-exchange`, { token_exchange: 'on' })), `${path}?done=exchange_allowed`)
    assert.equal((await findClient(server.ctx.db, agent.id))?.tokenExchange, true)
    page = await pageHtml(browser, `${path}?done=exchange_allowed`)
    assert.match(testIdTexts(page, 'token-exchange-state')[0] ?? '', /^Allowed/)
    assert.match(page, /Stop token exchange/)
    const allowed = await exchange(agent)
    assert.equal(allowed.response.status, 200, JSON.stringify(allowed.body))
    assert.equal(typeof allowed.body.access_token, 'string')

    const member = await browserFor(server, bea.user)
    const memberPage = await pageHtml(member, path)
    assert.match(testIdTexts(memberPage, 'token-exchange-state')[0] ?? '', /^Allowed/, 'a member sees the state')
    assert.doesNotMatch(memberPage, /token-exchange"/, 'but not the switch')
    const refused = await postFields(member, `${path}/token-exchange`, { token_exchange: 'off', _csrf: formField(memberPage, '_csrf') })
    assert.equal(refused.status, 403)
    assert.equal((await findClient(server.ctx.db, agent.id))?.tokenExchange, true)

    const withoutCsrf = await postFields(browser, `${path}/token-exchange`, { token_exchange: 'off' })
    assert.notEqual(withoutCsrf.status, 303)
    assert.equal((await findClient(server.ctx.db, agent.id))?.tokenExchange, true)

    assert.equal(seeOther(await submitForm(browser, path, `${path}/token-exchange`, { token_exchange: 'off' })), `${path}?done=exchange_denied`)
    assert.equal((await findClient(server.ctx.db, agent.id))?.tokenExchange, false)
    const stopped = await exchange(agent)
    assert.equal(stopped.response.status, 400)
    assert.equal(stopped.body.error, 'unauthorized_client')

    await server.ctx.activity.flush()
    const actions = (await activityPage(server.ctx.db, { teamId: olive.team!.id, clientId: agent.id }, undefined, 20)).items
      .filter((a) => a.action.startsWith('client.token_exchange'))
      .map((a) => [a.action, a.userId])
    assert.deepEqual(actions, [
      ['client.token_exchange_disabled', olive.user.id],
      ['client.token_exchange_enabled', olive.user.id],
    ])
  })

  it('never offers the switch for a public or third-party client, and refuses it there', async () => {
    const browser = await browserFor(server, olive.user)
    for (const { client } of [await seedClient(server.ctx, olive, { isFirstParty: true, isConfidential: false }), await seedClient(server.ctx, olive)]) {
      const path = `/settings/clients/${client.id}`
      const page = await pageHtml(browser, path)
      assert.deepEqual(testIdTexts(page, 'token-exchange-state'), [])
      assert.doesNotMatch(page, /token-exchange/)
      const response = await postFields(browser, `${path}/token-exchange`, { token_exchange: 'on', _csrf: formField(page, '_csrf') })
      assert.equal(response.status, 400)
      assert.match(await response.text(), new RegExp(escapeRegExp(MESSAGES.token_exchange_first_party)))
      assert.equal((await findClient(server.ctx.db, client.id))?.tokenExchange, false)
    }
  })
})
