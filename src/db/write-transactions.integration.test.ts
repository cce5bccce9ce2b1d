import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, describe, it } from 'node:test'
import { createUser } from '../accounts/users.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { openDatabase } from './connection.js'
import { migrateToLatest } from './migrate.js'

const PROCESSES = 4
const ROUNDS = 25

const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href)

/**
 * One process of several on the same file, each with its own user: every
 * round runs the transactions that read before they write (adding and
 * removing a member, disabling and enabling a user) while the others do the same.
 */
const WORKER = `
const { openDatabase } = await import(${module('./connection.js')})
const { addMember, removeMember } = await import(${module('../accounts/teams.js')})
const { setDisabled } = await import(${module('../accounts/users.js')})
const [url, email, rounds] = process.argv.slice(1)
const db = await openDatabase(url)
try {
  for (let round = 0; round < Number(rounds); round++) {
    await addMember(db, 'Engines', email, 'member', Date.now())
    await removeMember(db, 'Engines', email, Date.now())
    await setDisabled(db, email, true, Date.now())
    await setDisabled(db, email, false, Date.now())
  }
} finally {
  await db.close()
}
`

function runWorker(url: string, email: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER, url, email, String(ROUNDS)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return once(child, 'exit').then(([code]) => {
    clearTimeout(killer)
    return { code: code as number | null, stderr }
  })
}

describe('read-then-write transactions from several processes on one SQLite file', { timeout: 90_000 }, () => {
  let database: TestDatabase
  const emails = Array.from({ length: PROCESSES }, (_, i) => `worker${i}@example.com`)

  before(async () => {
    database = await createTestDatabase('sqlite')
    const db = await openDatabase(database.url)
    try {
      await migrateToLatest(db)
      await createUser(db, { email: 'ada@example.com', name: 'Ada', password: 'correct horse battery', teamName: 'Engines' }, Date.now())
      for (const email of emails) await createUser(db, { email, name: email, password: 'correct horse battery' }, Date.now())
    } finally {
      await db.close()
    }
  })
  after(() => database.drop())

  it('all finish: each waits for the write lock instead of failing with SQLITE_BUSY', async () => {
    const runs = await Promise.all(emails.map((email) => runWorker(database.url, email)))
    for (const run of runs) {
      assert.doesNotMatch(run.stderr, /SQLITE_BUSY/)
      assert.equal(run.code, 0, run.stderr)
    }
  })
})
