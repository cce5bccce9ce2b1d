import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { hashPassword, verifyPassword } from './passwords.js'

const PASSWORD = 'correct horse battery staple'

describe('password hashing', () => {
  it('verifies the password it hashed', async () => {
    assert.equal(await verifyPassword(PASSWORD, await hashPassword(PASSWORD)), true)
  })

  it('refuses a wrong password, including one differing only in case or by a trailing space', async () => {
    const stored = await hashPassword(PASSWORD)
    for (const attempt of ['wrong password', PASSWORD.toUpperCase(), `${PASSWORD} `, '']) {
      assert.equal(await verifyPassword(attempt, stored), false, JSON.stringify(attempt))
    }
  })

  it('stores scrypt with its parameters and never the password itself', async () => {
    const stored = await hashPassword(PASSWORD)
    assert.match(stored, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/)
    assert.ok(!stored.includes(PASSWORD))
  })

  it('salts every hash: the same password hashes differently each time', async () => {
    const [first, second] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)])
    assert.notEqual(first, second)
    assert.notEqual(first.split('$')[4], second.split('$')[4])
    assert.equal(await verifyPassword(PASSWORD, first), true)
    assert.equal(await verifyPassword(PASSWORD, second), true)
  })

  it('treats the password as Unicode text: composed and decomposed forms match', async () => {
    const stored = await hashPassword('caf\u00e9 au lait')
    assert.equal(await verifyPassword('cafe\u0301 au lait', stored), true)
  })

  it('returns false for a stored value that is not one of its hashes', async () => {
    const stored = await hashPassword(PASSWORD)
    const [, N, r, p, salt, key] = stored.split('$') as [string, string, string, string, string, string]
    for (const malformed of [
      '',
      PASSWORD,
      `bcrypt$${N}$${r}$${p}$${salt}$${key}`,
      `scrypt$${N}$${r}$${p}$${salt}`,
      `${stored}$extra`,
      `scrypt$${N}$${r}$${p}$${salt}$`,
      `scrypt$${N}$${r}$${p}$${salt}$${key.slice(0, 10)}`,
      `scrypt$abc$${r}$${p}$${salt}$${key}`,
      `scrypt$1000$${r}$${p}$${salt}$${key}`,
      `scrypt$${N}$0$${p}$${salt}$${key}`,
      `scrypt$${2 ** 30}$${r}$${p}$${salt}$${key}`,
    ]) {
      assert.equal(await verifyPassword(PASSWORD, malformed), false, malformed)
    }
  })
})
