import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import type { User } from '../accounts/types.js'
import { createUser } from '../accounts/users.js'
import { registerClient } from '../clients/clients.js'
import { postgresSkipReason } from '../testing/databases.js'
import { basicAuth, browserFor, codeFor, postOAuth, type Json } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const REDIRECT = 'https://example.com/callback'

// Every statement the server sends PostgreSQL, with its text. Installed
// before the server opens its pool, so every connection reports here.
const sent: string[] = []
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0]
  sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text))
  return query.apply(this, args)
} as typeof pg.Client.prototype.query

// The activity log and API usage are written by a timer a few times a second,
// apart from any request, so they are no part of an issuance.
const BUFFERED = /^insert into "(activities|api_usage)"/

async function roundTrips(work: () => Promise<void>): Promise<string[]> {
  sent.length = 0
  await work()
  return sent.filter((text) => !BUFFERED.test(text))
}

const skip = await postgresSkipReason()
if (skip) process.stdout.write(`skipping round trips on postgres: ${skip}\n`)

describe('an issuance on PostgreSQL takes at most 3 round trips', { skip: skip ?? false }, () => {
  let server: TestServer
  let ada: User
  let client: { id: string; secret: string }

  before(async () => {
    server = await startTestServer('postgres')
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

  it('code exchange and refresh grant (with an ID token, so the user is read too): 3 statements each, the last one writing everything', async () => {
    const browser = await browserFor(server, ada)
    const code = await codeFor(browser, { response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, scope: 'openid profile', nonce: 'n-1' })
    let issued: Json = {}
    const exchange = await roundTrips(async () => {
      issued = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT })
    })
    assert.ok(issued.id_token, 'an ID token was issued')
    assert.ok(exchange.length <= 3, `code exchange: ${exchange.length} round trips:\n${exchange.join('\n---\n')}`)

    const refresh = await roundTrips(async () => {
      issued = await token({ grant_type: 'refresh_token', refresh_token: String(issued.refresh_token) })
    })
    assert.ok(issued.id_token, 'an ID token was issued')
    assert.ok(refresh.length <= 3, `refresh grant: ${refresh.length} round trips:\n${refresh.join('\n---\n')}`)
  })
})
