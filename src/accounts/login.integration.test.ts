import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { BufferedActivityLog } from '../activity/recorder.js'
import { DEFAULT_LOGIN_THROTTLE, type LoginThrottle } from '../config.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { Refusal } from '../messages.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { authenticate } from './login.js'
import { createUser } from './users.js'

const PASSWORD = 'correct horse battery'

/** Small limits, so each rule is crossed in a few attempts (every evaluated attempt costs a scrypt hash). */
const SMALL: LoginThrottle = { windowSeconds: 900, perAddress: 6, perAccountAndAddress: 3, perAccount: 5 }

await forEachDialect('login throttle', (dialect) => {
  let database: TestDatabase
  let db: Db
  let activity: BufferedActivityLog
  let accounts = 0

  before(async () => {
    database = await createTestDatabase(dialect)
    db = await openDatabase(database.url)
    await migrateToLatest(db)
    activity = new BufferedActivityLog(db, Date.now, () => {})
  })
  after(async () => {
    await activity.close()
    await db.close()
    await database.drop()
  })

  async function account(): Promise<{ email: string; id: number }> {
    accounts += 1
    const email = `user${accounts}@example.com`
    const { user } = await createUser(db, { email, name: `User ${accounts}`, password: PASSWORD }, Date.now())
    return { email, id: user.id }
  }

  async function outcome(email: string, password: string, address: string, throttle: LoginThrottle = SMALL): Promise<string> {
    try {
      await authenticate(db, activity, email, password, address, Date.now(), throttle)
      return 'ok'
    } catch (err) {
      if (err instanceof Refusal) return err.code
      throw err
    }
  }

  it('lets the owner log in from their own address while another address hammers the account (OWASP ASVS V2.2.1: no lockout as denial of service)', async () => {
    const { email } = await account()
    const results = []
    for (let i = 0; i < SMALL.perAccountAndAddress + 3; i++) results.push(await outcome(email, `wrong ${i}`, '203.0.113.66'))
    assert.deepEqual(results, [...Array(SMALL.perAccountAndAddress).fill('invalid_credentials'), ...Array(3).fill('login_throttled')])
    assert.equal(await outcome(email, PASSWORD, '203.0.113.66'), 'login_throttled', 'the attacking address is locked out of the account, right password or not')
    assert.equal(await outcome(email, PASSWORD, '198.51.100.7'), 'ok', 'the owner, elsewhere, is not')
  })

  it('refuses every address once failures spread over many addresses pass the account-wide ceiling (OWASP ASVS V2.2.1)', async () => {
    const { email } = await account()
    for (let i = 0; i < SMALL.perAccount; i++) assert.equal(await outcome(email, 'wrong', `192.0.2.${i}`), 'invalid_credentials', `attempt ${i}`)
    assert.equal(await outcome(email, PASSWORD, '192.0.2.200'), 'login_throttled')
  })

  it('does not count attempts an address was refused against the account-wide ceiling, so one address cannot reach it alone', async () => {
    const { email } = await account()
    for (let i = 0; i < SMALL.perAccount * 3; i++) await outcome(email, 'wrong', '203.0.113.9', { ...SMALL, perAddress: 1000 })
    assert.equal(await outcome(email, PASSWORD, '198.51.100.9'), 'ok')
  })

  it('limits the attempts of one address over many accounts', async () => {
    const results = []
    for (let i = 0; i < SMALL.perAddress + 1; i++) results.push(await outcome((await account()).email, 'wrong', '203.0.113.77'))
    assert.equal(results.filter((r) => r === 'login_throttled').length, 1)
    assert.equal(results.at(-1), 'login_throttled')
  })

  it('answers unknown and known e-mail addresses alike, throttle included (OWASP ASVS V2.2: no account enumeration)', async () => {
    const { email } = await account()
    const sequence = async (address: string, target: string) => {
      const seen = []
      for (let i = 0; i < SMALL.perAccountAndAddress + 1; i++) seen.push(await outcome(target, 'wrong', address))
      return seen
    }
    assert.deepEqual(await sequence('203.0.113.21', 'nobody@example.com'), await sequence('203.0.113.22', email))
  })

  it('records every failure and the start of each lockout in the activity log', async () => {
    const { email, id } = await account()
    for (let i = 0; i < SMALL.perAccountAndAddress + 2; i++) await outcome(email, 'wrong', '203.0.113.50')
    await activity.flush()
    const rows = await db.kysely.selectFrom('activities').select(['action', 'detail', 'address']).where('user_id', '=', id).orderBy('id').execute()
    assert.deepEqual(
      rows.map((r) => r.action),
      [...Array(SMALL.perAccountAndAddress).fill('login.failed'), 'login.locked'],
    )
    assert.match(rows.at(-1)!.detail ?? '', /from this address/)
    assert.equal(rows.at(-1)!.address, '203.0.113.50')
  })

  it('lets no more attempts through than the limit when they arrive in parallel', async () => {
    const { email } = await account()
    const attempts = Array.from({ length: 12 }, (_, i) => outcome(email, `wrong password ${i}`, '10.0.0.1'))
    attempts.push(outcome(email, PASSWORD, '10.0.0.1'))
    const results = await Promise.all(attempts)
    const evaluated = results.filter((r) => r !== 'login_throttled')
    assert.ok(evaluated.length <= SMALL.perAccountAndAddress, `${evaluated.length} attempts were evaluated: ${results.join(', ')}`)
    assert.equal(await outcome(email, PASSWORD, '10.0.0.1'), 'login_throttled')
  })

  it('does not count a successful login against the address: more successes than the per-address limit all pass', async () => {
    const { email } = await account()
    const throttle = { ...DEFAULT_LOGIN_THROTTLE, perAddress: 3 }
    for (let i = 0; i < throttle.perAddress + 2; i++) assert.equal(await outcome(email, PASSWORD, '10.9.9.9', throttle), 'ok', `login ${i + 1}`)
  })
})
