import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { KEY_REFRESH_MS } from '../keys/signing-keys.js'
import { createTestDatabase, postgresSkipReason, type TestDatabase } from '../testing/databases.js'
import { HttpClient } from '../testing/http-client.js'
import { freePort } from '../testing/ports.js'
import { redisSkipReason, redisUrl } from '../testing/redis.js'
import {
  createAccount,
  exchangeCode,
  gatehouseJson,
  jwtHeader,
  logInAt,
  me,
  newCode,
  postOAuth,
  refresh,
  startGatehouse,
  timeUntil,
  tokensOf,
  type Account,
  type SpawnedServer,
  type TokenPair,
} from '../testing/spawned.js'

const RATE_LIMIT = 5

const skip = (await postgresSkipReason()) ?? (await redisSkipReason())
if (skip) process.stdout.write(`skipping the multi-process suite: ${skip}\n`)

describe('two gatehouse processes on one PostgreSQL and one Redis', { skip: skip ?? false, timeout: 150_000 }, () => {
  let database: TestDatabase
  let dataDir: string
  let settings: Record<string, string>
  let a: SpawnedServer | undefined
  let b: SpawnedServer | undefined
  const accounts: Record<'flow' | 'limits' | 'keys', Account> = {} as never

  before(
    async () => {
      database = await createTestDatabase('postgres')
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-multi-'))
      const [portA, portB] = [await freePort(), await freePort()]
      // One deployment: one public issuer in front of both processes.
      settings = {
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl(),
        GATEHOUSE_DATA_DIR: dataDir,
        GATEHOUSE_ISSUER: `http://127.0.0.1:${portA}`,
        GATEHOUSE_RATE_LIMIT: String(RATE_LIMIT),
      }
      // Started together on an empty database, as a deployment does: both migrate, both look for a signing key.
      ;[a, b] = await Promise.all([startGatehouse(settings, { port: portA }), startGatehouse(settings, { port: portB })])

      // Redis outlives this database and other runs count in it by user id:
      // ids no other run uses keep this run's budgets its own.
      const admin = new pg.Client({ connectionString: database.url })
      await admin.connect()
      try {
        await admin.query(`alter table users alter column id restart with ${1_000_000 + Math.floor(Math.random() * 1_000_000_000)}`)
      } finally {
        await admin.end()
      }
      const [flow, limits, keys] = await Promise.all(
        ['flow@example.com', 'limits@example.com', 'keys@example.com'].map((email) => createAccount(settings, email)),
      )
      Object.assign(accounts, { flow, limits, keys })
    },
    { timeout: 90_000 },
  )

  after(
    async () => {
      await Promise.all([a?.kill(), b?.kill()])
      await database?.drop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
    { timeout: 30_000 },
  )

  /** A fresh token pair: approved at `authorizeAt`, exchanged at `exchangeAt`. */
  async function tokensFor(account: Account, authorizeAt: SpawnedServer, exchangeAt: SpawnedServer): Promise<TokenPair> {
    const browser = await logInAt(authorizeAt.url, account.email)
    return tokensOf(await exchangeCode(exchangeAt.url, account, await newCode(browser, account)))
  }

  it('redeems at B a code issued by A, once, and each accepts the tokens of the other', async () => {
    const account = accounts.flow
    const browser = await logInAt(a!.url, account.email)
    const code = await newCode(browser, account)
    const first = await exchangeCode(b!.url, account, code)
    const tokens = tokensOf(first)
    assert.equal((await me(a!.url, tokens.access_token)).status, 200)
    const user = await me(b!.url, tokens.access_token)
    assert.equal(user.status, 200)
    assert.equal(user.body.email, account.email)

    const again = await exchangeCode(a!.url, account, code)
    assert.equal(again.status, 400, 'a code redeemed at B is spent at A too')
    assert.equal(again.body.error, 'invalid_grant')

    // The browser's session, made at A, is good at B too.
    const sameBrowserAtB = new HttpClient(b!.url)
    for (const [name, value] of browser.cookies) sameBrowserAtB.cookies.set(name, value)
    const codeFromB = await newCode(sameBrowserAtB, account)
    const refreshed = tokensOf(await refresh(a!.url, account, tokensOf(await exchangeCode(a!.url, account, codeFromB)).refresh_token))
    assert.equal((await me(b!.url, refreshed.access_token)).status, 200)
  })

  it('refuses at B, within a second, a token revoked at A', async () => {
    const account = accounts.flow
    const tokens = await tokensFor(account, a!, a!)
    // B has checked this token once already, so nothing about it is new to B.
    assert.equal((await me(b!.url, tokens.access_token)).status, 200)

    const revoked = await postOAuth(a!.url, '/oauth/revoke', { token: tokens.access_token, client_id: account.clientId, client_secret: account.clientSecret })
    assert.equal(revoked.status, 200)
    const refusedAfter = await timeUntil(1000, 20, async () => (await me(b!.url, tokens.access_token)).status === 401)
    assert.ok(refusedAfter !== undefined, 'B still accepted the token a second after A revoked it')

    // A refresh token revoked at A ends the grant at B as well.
    const other = await tokensFor(account, a!, b!)
    assert.equal(
      (await postOAuth(a!.url, '/oauth/revoke', { token: other.refresh_token, client_id: account.clientId, client_secret: account.clientSecret })).status,
      200,
    )
    const refused = await refresh(b!.url, account, other.refresh_token)
    assert.equal(refused.status, 400)
    assert.equal(refused.body.error, 'invalid_grant')
    assert.equal((await me(b!.url, other.access_token)).status, 401)
  })

  it('counts one rate-limit budget per user across both processes', async () => {
    const tokens = await tokensFor(accounts.limits, a!, b!)
    const answers = []
    for (let i = 0; i <= RATE_LIMIT; i++) answers.push(await me((i % 2 === 0 ? a! : b!).url, tokens.access_token))
    // Each process counting on its own would allow RATE_LIMIT requests at each.
    assert.deepEqual(
      answers.map((r) => [r.status, r.headers.get('x-ratelimit-remaining')]),
      [
        [200, '4'],
        [200, '3'],
        [200, '2'],
        [200, '1'],
        [200, '0'],
        [429, '0'],
      ],
    )
    assert.equal(answers[RATE_LIMIT]!.body.error, 'rate_limited')
    assert.equal((await me(a!.url, tokens.access_token)).status, 429, 'A refuses as well once B has used the last of the budget')
  })

  it('signs with a rotated key at both processes, and keeps accepting tokens signed with the old one', { timeout: KEY_REFRESH_MS + 60_000 }, async (t) => {
    const account = accounts.keys
    const old = await tokensFor(account, a!, b!)
    const oldKid = jwtHeader(old.access_token).kid
    assert.ok(oldKid)

    const { kid: newKid } = await gatehouseJson(['keys', 'rotate'], settings)
    assert.ok(typeof newKid === 'string' && newKid !== oldKid)

    // Each process keeps a refresh chain going until it signs with the new key.
    const chains = { a: await tokensFor(account, a!, a!), b: await tokensFor(account, b!, b!) }
    const signsWithNewKey = async (name: 'a' | 'b') => {
      const server = name === 'a' ? a! : b!
      chains[name] = tokensOf(await refresh(server.url, account, chains[name].refresh_token))
      return jwtHeader(chains[name].access_token).kid === newKid
    }
    const [tookA, tookB] = await Promise.all([
      timeUntil(KEY_REFRESH_MS + 5000, 250, () => signsWithNewKey('a')),
      timeUntil(KEY_REFRESH_MS + 5000, 250, () => signsWithNewKey('b')),
    ])
    t.diagnostic(`after keys rotate, A signed with the new key after ${tookA} ms, B after ${tookB} ms`)
    assert.ok(tookA !== undefined, `A still signs with ${jwtHeader(chains.a.access_token).kid}, not ${newKid}`)
    assert.ok(tookB !== undefined, `B still signs with ${jwtHeader(chains.b.access_token).kid}, not ${newKid}`)

    // Four calls: the budget of RATE_LIMIT a window is this account's alone.
    assert.equal((await me(b!.url, chains.a.access_token)).status, 200, 'B accepts what A signed with the new key')
    assert.equal((await me(a!.url, chains.b.access_token)).status, 200, 'A accepts what B signed with the new key')
    for (const server of [a!, b!]) {
      assert.equal((await me(server.url, old.access_token)).status, 200, `the token signed with the old key still works at ${server.url}`)
      const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }
      assert.deepEqual(
        jwks.keys
          .map((k) => k.kid)
          .filter((kid) => kid === oldKid || kid === newKid)
          .sort(),
        [oldKid, newKid].sort(),
      )
    }
  })
})
