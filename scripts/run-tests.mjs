// Runs the compiled test files with node's test runner. Node 20 takes no
// glob patterns on the command line, so the files are listed here.
//
//   node scripts/run-tests.mjs [--tier unit|integration|e2e] [--list] [part of a file name ...]
//
// Tiers follow the file names: `*.e2e.test.ts` drive a browser,
// `*.integration.test.ts` start the real server or database, every other
// `*.test.ts` is a unit test. Without --tier every tier runs; the remaining
// arguments keep the files whose path contains any of them. --list prints
// the chosen files instead of running them.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const TIERS = {
  e2e: (file) => file.endsWith('.e2e.test.js'),
  integration: (file) => file.endsWith('.integration.test.js'),
  unit: (file) => file.endsWith('.test.js') && !TIERS.e2e(file) && !TIERS.integration(file),
}

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return findTests(path)
    return entry.name.endsWith('.test.js') ? [path] : []
  })
}

const { values, positionals: only } = parseArgs({
  options: { tier: { type: 'string', multiple: true }, list: { type: 'boolean', default: false } },
  allowPositionals: true,
})
const tiers = values.tier ?? Object.keys(TIERS)
for (const tier of tiers) {
  if (!Object.hasOwn(TIERS, tier)) {
    console.error(`unknown tier ${tier}: one of ${Object.keys(TIERS).join(', ')}`)
    process.exit(2)
  }
}

const files = findTests('dist')
  .filter((f) => tiers.some((tier) => TIERS[tier](f)))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
if (files.length === 0) {
  console.error(`no ${tiers.join('/')} test files${only.length > 0 ? ` matching ${only.join(', ')}` : ''} under dist/`)
  process.exit(1)
}
if (values.list) {
  console.log(files.join('\n'))
  process.exit(0)
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' })
process.exit(result.status ?? 1)
