import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { startServer, type RunningServer } from '../server.js'
import { forEachDialect } from '../testing/dialects.js'
import { seedClient, seedUser, type SeededUser } from '../testing/fixtures.js'
import { basicAuth, postOAuth, type Json } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const LIMIT = 3
const ATTACKER = '203.0.113.66'
const OWNER = '198.51.100.7'

type Endpoint = '/oauth/token' | '/oauth/revoke' | '/oauth/introspect'

/** A request that authenticates the client and otherwise asks for nothing that could succeed or fail for another reason. */
const BODIES: Record<Endpoint, Record<string, string>> = {
  '/oauth/token': { grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token' },
  '/oauth/revoke': { token: 'not-a-token' },
  '/oauth/introspect': { token: 'not-a-token' },
}
/** What each endpoint answers once the client is authenticated. */
const AUTHENTICATED: Record<Endpoint, number> = { '/oauth/token': 400, '/oauth/revoke': 200, '/oauth/introspect': 200 }

await forEachDialect('client authentication throttle', (dialect) => {
  let server: TestServer
  let owner: SeededUser

  before(async () => {
    // trustProxy: the tests speak for several addresses through X-Forwarded-For.
    server = await startTestServer(dialect, { trustProxy: true, clientAuthThrottle: { limit: LIMIT, windowSeconds: 60 } })
    owner = await seedUser(server.ctx.db, 'owner@example.com', { team: 'Owners' })
  })
  after(() => server.stop())

  function call(
    target: { url: string },
    endpoint: Endpoint,
    id: string,
    secret: string,
    address: string,
    basic = false,
  ): Promise<{ response: Response; body: Json }> {
    const credentials: Record<string, string> = basic ? {} : { client_id: id, client_secret: secret }
    const headers: Record<string, string> = { 'x-forwarded-for': address, ...(basic ? { authorization: basicAuth(id, secret) } : {}) }
    return postOAuth(target as TestServer, endpoint, { ...BODIES[endpoint], ...credentials }, headers)
  }

  function assertThrottled(result: { response: Response; body: Json }, what: string): void {
    assert.equal(result.response.status, 429, what)
    assert.match(result.response.headers.get('retry-after') ?? '', /^[1-9]\d*$/, `${what}: Retry-After in seconds`)
    assert.ok(Number(result.response.headers.get('retry-after')) <= 60, what)
    assert.equal(result.body.error, 'invalid_client', what)
    assert.match(String(result.body.error_description), /Too many failed client authentication attempts/, what)
    assert.equal(result.response.headers.get('cache-control'), 'no-store', what)
  }

  for (const endpoint of Object.keys(BODIES) as Endpoint[]) {
    for (const basic of [false, true]) {
      it(`refuses an address with 429 after ${LIMIT} failed client authentications at ${endpoint}${basic ? ' (HTTP Basic)' : ''}, right secret included, while the owner elsewhere goes on (RFC 6819 §5.1.4.2.3, OWASP ASVS V2.2)`, async () => {
        const { id, secret } = await seedClient(server.ctx, owner)
        for (let i = 0; i < LIMIT; i++) assert.equal((await call(server, endpoint, id, `wrong-${i}`, ATTACKER, basic)).response.status, 401, `failure ${i + 1}`)
        assertThrottled(await call(server, endpoint, id, 'wrong-again', ATTACKER, basic), 'one failure too many')
        assertThrottled(await call(server, endpoint, id, secret, ATTACKER, basic), 'the right secret from the throttled address')
        for (const other of Object.keys(BODIES) as Endpoint[])
          assertThrottled(await call(server, other, id, secret, ATTACKER, basic), `${other} from the throttled address`)
        assert.equal(
          (await call(server, endpoint, id, secret, OWNER, basic)).response.status,
          AUTHENTICATED[endpoint],
          'the owner, at another address, is not locked out',
        )
        const another = await seedClient(server.ctx, owner)
        assert.equal(
          (await call(server, endpoint, another.id, another.secret, ATTACKER, basic)).response.status,
          AUTHENTICATED[endpoint],
          'another client from that address is not locked out',
        )
      })
    }
  }

  it('counts failures in the database, so every process of the deployment refuses the address', async () => {
    const second: RunningServer = await startServer({ ...server.ctx.config, port: 0 }, { sandbox: false })
    try {
      const { id, secret } = await seedClient(server.ctx, owner)
      for (let i = 0; i < LIMIT; i++) assert.equal((await call(server, '/oauth/introspect', id, 'wrong', ATTACKER)).response.status, 401)
      assertThrottled(await call(second, '/oauth/introspect', id, secret, ATTACKER), 'the other process')
    } finally {
      await second.close()
    }
  })
})
