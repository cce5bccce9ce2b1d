import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The compiled test files `scripts/run-tests.mjs` would run with these arguments. */
function listed(...args: string[]): string[] {
  return execFileSync(process.execPath, ['scripts/run-tests.mjs', '--list', ...args], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
}

it('runs each test tier alone: unit, integration and e2e by file name, and every tier without --tier', () => {
  const all = listed()
  const unit = listed('--tier', 'unit')
  const integration = listed('--tier', 'integration')
  const e2e = listed('--tier', 'e2e')
  assert.ok(unit.includes('dist/src/testing/run-tests.test.js'))
  assert.ok(
    unit.every((f) => !f.endsWith('.integration.test.js') && !f.endsWith('.e2e.test.js')),
    'unit leaves out the integration and browser files',
  )
  assert.ok(integration.length > 0 && integration.every((f) => f.endsWith('.integration.test.js')))
  assert.ok(e2e.length > 0 && e2e.every((f) => f.endsWith('.e2e.test.js')))
  assert.deepEqual([...unit, ...integration, ...e2e].sort(), all, 'the tiers together are the whole suite')
})

it('keeps the file-name filters, within a tier too', () => {
  assert.deepEqual(listed('--tier', 'integration', 'login'), ['dist/src/accounts/login.integration.test.js', 'dist/src/http/pages/login.integration.test.js'])
  assert.deepEqual(listed('login.e2e', 'pkce'), ['dist/src/http/pages/login.e2e.test.js', 'dist/src/protocol/pkce.test.js'])
})
