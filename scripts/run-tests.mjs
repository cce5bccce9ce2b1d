// Runs every compiled test file with node's test runner. Node 20 takes no
// glob patterns on the command line, so the files are listed here.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return findTests(path)
    return entry.name.endsWith('.test.js') ? [path] : []
  })
}

const only = process.argv.slice(2)
const files = findTests('dist').filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort()
if (files.length === 0) {
  console.error('no test files found under dist/')
  process.exit(1)
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' })
process.exit(result.status ?? 1)
