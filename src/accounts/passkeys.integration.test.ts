import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { deleteAllFactors } from '../db/factors.js'
import { findPasskeyByCredentialId, insertPasskeyFactor, usePasskey } from '../db/passkeys.js'
import { MESSAGES } from '../messages.js'
import { forEachDialect } from '../testing/dialects.js'
import { seedUser, type SeededUser } from '../testing/fixtures.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { hasFactor } from './factors.js'
import { CHALLENGE_TTL_MS, finishPasskeyLogin, startPasskeyLogin } from './passkeys.js'

await forEachDialect('passkey storage', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let offset = 0
  const clock = () => Date.now() + offset

  before(async () => {
    server = await startTestServer(dialect, {}, clock)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
  })
  after(() => server?.stop())

  it('keeps a passkey as a factor; a use with a stale counter loses to the one before it', async () => {
    const db = server.ctx.db.kysely
    await insertPasskeyFactor(db, {
      id: 'pk-1',
      userId: ada.user.id,
      name: 'Laptop',
      credentialId: 'cred-1',
      publicKey: 'AQID',
      signCount: 3,
      transports: ['internal', 'hybrid'],
      now: clock(),
    })
    assert.equal(await hasFactor(server.ctx, ada.user.id), true)
    const stored = await findPasskeyByCredentialId(db, 'cred-1')
    assert.deepEqual(stored && { userId: stored.userId, signCount: stored.signCount, transports: stored.transports }, {
      userId: ada.user.id,
      signCount: 3,
      transports: ['internal', 'hybrid'],
    })
    assert.equal(await usePasskey(db, 'pk-1', 3, 4, clock()), true)
    assert.equal(await usePasskey(db, 'pk-1', 3, 4, clock()), false, 'the same counter a second time')
    assert.equal((await findPasskeyByCredentialId(db, 'cred-1'))?.signCount, 4)
    assert.equal(await deleteAllFactors(db, ada.user.id), 1)
    assert.equal(await findPasskeyByCredentialId(db, 'cred-1'), undefined)
  })

  it('takes a challenge once, only for the form it was given to, and not once expired', async () => {
    const answer = { id: 'cred-unknown', rawId: 'cred-unknown', type: 'public-key', response: {} }
    const refusal = (code: keyof typeof MESSAGES) => ({ message: MESSAGES[code] })

    const other = await startPasskeyLogin(server.ctx, 'passwordless', 'form-a', undefined)
    await assert.rejects(
      finishPasskeyLogin(server.ctx, 'passwordless', 'form-b', { challengeId: other.challengeId, response: answer }, '127.0.0.1'),
      refusal('passkey_challenge_unknown'),
    )

    const once = await startPasskeyLogin(server.ctx, 'passwordless', 'form-a', undefined)
    await assert.rejects(
      finishPasskeyLogin(server.ctx, 'passwordless', 'form-a', { challengeId: once.challengeId, response: answer }, '127.0.0.1'),
      refusal('passkey_unknown'),
    )
    await assert.rejects(
      finishPasskeyLogin(server.ctx, 'passwordless', 'form-a', { challengeId: once.challengeId, response: answer }, '127.0.0.1'),
      refusal('passkey_challenge_unknown'),
    )

    const late = await startPasskeyLogin(server.ctx, 'passwordless', 'form-a', undefined)
    offset += CHALLENGE_TTL_MS + 1000
    try {
      await assert.rejects(
        finishPasskeyLogin(server.ctx, 'passwordless', 'form-a', { challengeId: late.challengeId, response: answer }, '127.0.0.1'),
        refusal('passkey_challenge_expired'),
      )
    } finally {
      offset = 0
    }
  })

  it('refuses the second step for a user without passkeys', async () => {
    await assert.rejects(startPasskeyLogin(server.ctx, 'second-step', 'form-a', ada.user), { message: MESSAGES.passkey_none })
  })
})
