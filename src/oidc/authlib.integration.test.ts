import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { after, before, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { forEachDialect } from '../testing/dialects.js'
import { REDIRECT, seedClient, seedUser, type SeededClient, type SeededUser } from '../testing/fixtures.js'
import { browserFor } from '../testing/oauth.js'
import { openIdTokens } from '../testing/openid.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const PYTHON = '/usr/bin/python3'
// Not compiled, so read where it is kept, from the compiled test's place in dist/.
const CHECK = fileURLToPath(new URL('../../../src/oidc/authlib-check.py', import.meta.url))

/**
 * Why authlib cannot be run here, or undefined when it can. Under CI=true a
 * missing authlib is a failure, so a broken install cannot pass unseen.
 */
function authlibSkipReason(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import authlib.oidc.core'], { encoding: 'utf8' })
  if (probe.status === 0) return undefined
  const message = `authlib cannot be imported by ${PYTHON}: ${probe.error?.message ?? probe.stderr.trim()}`
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: install the python3-authlib package)`)
  process.stdout.write(`skipping the authlib tests: ${message}\n`)
  return message
}

interface Check {
  status: number | null
  stdout: string
  stderr: string
}

function authlibCheck(idToken: string, args: { issuer: string; clientId: string; nonce: string; accessToken: string }): Promise<Check> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [CHECK, args.issuer, args.clientId, args.nonce, args.accessToken], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
    child.stdin.end(idToken)
  })
}

const skip = authlibSkipReason()

await forEachDialect('authlib (an OpenID Connect client library) validates the ID token', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let app: SeededClient
  let tokens: { idToken: string; accessToken: string }
  const nonce = 'n-0S6_WzA2Mj'

  before(async () => {
    if (skip) return
    server = await startTestServer(dialect)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Engines' })
    app = await seedClient(server.ctx, ada)
    const browser = await browserFor(server, ada.user)
    const response = await openIdTokens(
      server,
      browser,
      { id: app.id, secret: app.secret, redirectUri: REDIRECT },
      { scope: 'openid profile email', nonce, state: 'af0ifjsldkj' },
    )
    tokens = { idToken: String(response.id_token), accessToken: String(response.access_token) }
  })
  after(async () => {
    await server?.stop()
  })

  function check(idToken: string, overrides: Partial<{ nonce: string; clientId: string; accessToken: string }> = {}): Promise<Check> {
    return authlibCheck(idToken, { issuer: server.url, clientId: app.id, nonce, accessToken: tokens.accessToken, ...overrides })
  }

  it(
    'oidcc-server: accepts the ID token of a code flow (signature from the JWKS, iss, aud, exp, nonce, at_hash) and reads its claims',
    { skip: skip ?? false },
    async () => {
      const result = await check(tokens.idToken)
      assert.equal(result.status, 0, result.stderr)
      const claims = JSON.parse(result.stdout) as Record<string, unknown>
      assert.equal(claims.iss, server.url)
      assert.equal(claims.sub, String(ada.user.id))
      assert.equal(claims.aud, app.id)
      assert.equal(claims.nonce, nonce)
      assert.equal(claims.email, 'ada@example.com')
      assert.equal(claims.name, 'Ada Lovelace')
    },
  )

  it('refuses a tampered ID token: a payload changed under the same signature', { skip: skip ?? false }, async () => {
    const [header, payload, signature] = tokens.idToken.split('.')
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: String(ada.user.id + 1) })).toString('base64url')
    const result = await check(`${header}.${forged}.${signature}`)
    assert.equal(result.status, 1)
    assert.match(result.stderr, /authlib refused the ID token: bad_signature/)
  })

  it('refuses the ID token for another nonce, another client or another access token (at_hash)', { skip: skip ?? false }, async () => {
    for (const [overrides, claim] of [
      [{ nonce: 'another-nonce' }, 'nonce'],
      [{ clientId: 'another-client' }, 'aud'],
      [{ accessToken: `${tokens.accessToken}x` }, 'at_hash'],
    ] as const) {
      const result = await check(tokens.idToken, overrides)
      assert.equal(result.status, 1, `accepted with ${JSON.stringify(overrides)}`)
      assert.match(result.stderr, new RegExp(`invalid_claim: Invalid claim "${claim}"`))
    }
  })
})
