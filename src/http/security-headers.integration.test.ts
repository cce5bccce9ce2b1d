import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestServer, type TestServer } from '../testing/server.js'

/** Pages, OAuth JSON, the API, metadata, health, a 404 and a refused request: every kind of answer. */
const REQUESTS: [string, RequestInit][] = [
  ['/login', {}],
  ['/', {}],
  ['/no-such-page', {}],
  ['/healthz', {}],
  ['/.well-known/oauth-authorization-server', {}],
  ['/oauth/jwks', {}],
  ['/oauth/authorize?client_id=unknown', {}],
  ['/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nope' }],
  ['/api/v2/me', {}],
]

describe('Strict-Transport-Security (RFC 6797)', () => {
  let https: TestServer
  let http: TestServer

  before(async () => {
    https = await startTestServer('sqlite', { issuer: 'https://auth.example.com' })
    http = await startTestServer('sqlite')
  })
  after(async () => {
    await https.stop()
    await http.stop()
  })

  it('is sent on every answer, with max-age=31536000; includeSubDomains, when the issuer is https', async () => {
    for (const [path, init] of REQUESTS) {
      const response = await fetch(new URL(path, https.url), { ...init, redirect: 'manual' })
      assert.equal(response.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains', `${path} (${response.status})`)
    }
  })

  it('is not sent when the issuer is plain http (a sandbox on localhost)', async () => {
    for (const [path, init] of REQUESTS) {
      const response = await fetch(new URL(path, http.url), { ...init, redirect: 'manual' })
      assert.equal(response.headers.get('strict-transport-security'), null, path)
    }
  })
})
