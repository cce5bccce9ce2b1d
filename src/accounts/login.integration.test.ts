import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { BufferedActivityLog } from '../activity/recorder.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { AppError } from '../messages.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { forEachDialect } from '../testing/dialects.js'
import { authenticate, THROTTLE } from './login.js'
import { createUser } from './users.js'

const PASSWORD = 'correct horse battery'

await forEachDialect('login throttle', (dialect) => {
  let database: TestDatabase
  let db: Db
  let activity: BufferedActivityLog

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

  async function outcome(email: string, password: string, address: string): Promise<string> {
    try {
      await authenticate(db, activity, email, password, address, Date.now())
      return 'ok'
    } catch (err) {
      if (err instanceof AppError) return err.code
      throw err
    }
  }

  it('lets no more attempts through than the limit when they arrive in parallel', async () => {
    await createUser(db, { email: 'racer@example.com', name: 'Racer', password: PASSWORD }, Date.now())
    const attempts = Array.from({ length: 19 }, (_, i) => outcome('racer@example.com', `wrong password ${i}`, `10.0.0.${i}`))
    attempts.push(outcome('racer@example.com', PASSWORD, '10.0.1.1'))
    const results = await Promise.all(attempts)
    const evaluated = results.filter((r) => r !== 'login_throttled')
    assert.ok(evaluated.length <= THROTTLE.perAccount, `${evaluated.length} attempts were evaluated: ${results.join(', ')}`)
    assert.equal(await outcome('racer@example.com', PASSWORD, '10.0.2.1'), 'login_throttled')
  })

  it('does not count a successful login against the address', async () => {
    await createUser(db, { email: 'regular@example.com', name: 'Regular', password: PASSWORD }, Date.now())
    for (let i = 0; i < THROTTLE.perAccount + 2; i++) assert.equal(await outcome('regular@example.com', PASSWORD, '10.9.9.9'), 'ok')
  })
})
