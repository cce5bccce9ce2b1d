import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The paths `npm pack` would publish, without building (the suite runs on a build already). */
function packedFiles(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const [pack] = JSON.parse(output) as { files: { path: string }[] }[]
  return pack!.files.map((file) => file.path)
}

it('publishes no tests, test helpers or benchmark code, and everything bin and exports point at', () => {
  const files = packedFiles()
  assert.deepEqual(
    files.filter((path) => /\.test\.|^dist\/src\/testing\/|^dist\/bench\//.test(path)),
    [],
  )
  const manifest = JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8')) as {
    bin: Record<string, string>
    exports: Record<string, Record<string, string> | string>
  }
  const targets = [
    ...Object.values(manifest.bin),
    ...Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target))),
  ]
  for (const target of targets) assert.ok(files.includes(target.replace(/^\.\//, '')), `${target} is published`)
  assert.ok(files.includes('views/layout.eta') && files.includes('public/app.css'), 'the templates and assets the server reads are published')
})
