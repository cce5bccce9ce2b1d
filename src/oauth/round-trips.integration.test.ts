import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import type { User } from '../accounts/types.js'
import { createUser } from '../accounts/users.js'
import { registerClient } from '../clients/clients.js'
import { LISTENER_APPLICATION_NAME } from '../db/connection.js'
import { postgresSkipReason } from '../testing/databases.js'
import { basicAuth, browserFor, codeFor, postOAuth, type Json } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const REDIRECT = 'https://example.com/callback'

// Every statement the server sends PostgreSQL, with its text. Installed
// before the server opens its pool, so every connection reports here.
const sent: string[] = []
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function (this: pg.Client & { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
  const first = args[0]
  // The revocation listener's pings keep its own connection honest, apart from any request.
  if (this.connectionParameters?.application_name !== LISTENER_APPLICATION_NAME)
    sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text))
  return query.apply(this, args)
} as typeof pg.Client.prototype.query

// The activity log and API usage are written (the activity log's writes
// looking up the team's webhook endpoints), and back-channel logouts
// delivered, by timers apart from any request: no part of an issuance.
const BACKGROUND = /^(insert into "(activities|api_usage)"|select "id" from "backchannel_deliveries"|select \* from "webhook_endpoints" where "team_id" in)/

async function roundTrips(server: TestServer, work: () => Promise<void>): Promise<string[]> {
  // The signing keys are read again every few seconds, apart from any one request: not now.
  await server.ctx.keyRing.reload()
  sent.length = 0
  await work()
  return sent.filter((text) => !BACKGROUND.test(text))
}

const skip = await postgresSkipReason()
if (skip) process.stdout.write(`skipping round trips on postgres: ${skip}\n`)

describe('round trips to PostgreSQL', { skip: skip ?? false }, () => {
  let server: TestServer
  let ada: User
  let client: { id: string; secret: string }

  before(async () => {
    // No pruning during the test: its deletes would be counted.
    server = await startTestServer('postgres', { pruneInterval: 86_400 })
    const created = await createUser(
      server.ctx.db,
      { email: 'ada@example.com', name: 'Ada', password: 'correct horse battery', teamName: 'Engines' },
      Date.now(),
    )
    ada = created.user
    const registered = await registerClient(
      server.ctx.db,
      server.ctx.keys,
      { name: 'Example App', redirectUris: [REDIRECT], ownerUserId: ada.id, teamId: created.team!.id },
      Date.now(),
    )
    client = { id: registered.client.id, secret: registered.secret! }
  })
  after(() => server.stop())

  async function token(body: Record<string, string>): Promise<Json> {
    const { response, body: answer } = await postOAuth(server, '/oauth/token', body, { authorization: basicAuth(client.id, client.secret) })
    assert.equal(response.status, 200, JSON.stringify(answer))
    return answer
  }

  it('an issuance takes at most 3: code exchange and refresh grant, with an ID token so the user is read too', async () => {
    const browser = await browserFor(server, ada)
    const code = await codeFor(browser, { response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, scope: 'openid profile', nonce: 'n-1' })
    let issued: Json = {}
    const exchange = await roundTrips(server, async () => {
      issued = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT })
    })
    assert.ok(issued.id_token, 'an ID token was issued')
    assert.ok(exchange.length <= 3, `code exchange: ${exchange.length} round trips:\n${exchange.join('\n---\n')}`)

    const refresh = await roundTrips(server, async () => {
      issued = await token({ grant_type: 'refresh_token', refresh_token: String(issued.refresh_token) })
    })
    assert.ok(issued.id_token, 'an ID token was issued')
    assert.ok(refresh.length <= 3, `refresh grant: ${refresh.length} round trips:\n${refresh.join('\n---\n')}`)
  })

  it('a token already checked is answered from memory: /api/v2/me again asks PostgreSQL nothing', async () => {
    const browser = await browserFor(server, ada)
    const code = await codeFor(browser, { response_type: 'code', client_id: client.id, redirect_uri: REDIRECT })
    const issued = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT })
    const call = async () => {
      const response = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${String(issued.access_token)}` } })
      await response.arrayBuffer()
      assert.equal(response.status, 200)
    }
    assert.ok((await roundTrips(server, call)).length >= 1, 'the first call checks the token in the database')
    const again = await roundTrips(server, call)
    assert.equal(again.length, 0, again.join('\n---\n'))
  })
})
