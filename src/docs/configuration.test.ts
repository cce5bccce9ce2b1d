import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { SETTINGS } from '../config.js'
import { CONFIGURATION_DOC, configurationDoc } from './configuration.js'

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url))

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

function matches(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((match) => match[1]!)
}

describe('docs/configuration.md', () => {
  it('is what npm run docs:config writes from the list of settings', () => {
    assert.equal(readFileSync(CONFIGURATION_DOC, 'utf8'), configurationDoc(), 'docs/configuration.md is stale: run npm run docs:config')
  })

  it('lists every setting the configuration reads', () => {
    const listed = new Set<string>(SETTINGS.map((setting) => setting.name))
    const config = readFileSync(join(SRC, 'config.ts'), 'utf8')
    const read = [
      ...matches(config, /\benv\.([A-Z][A-Z0-9_]*)/g),
      ...matches(config, /\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g),
      ...matches(config, /\(env, ['"]([A-Z][A-Z0-9_]*)['"]/g),
      ...sourceFiles(SRC).flatMap((file) => matches(readFileSync(file, 'utf8'), /process\.env(?:\.|\[['"])(GATEHOUSE_[A-Z0-9_]*)/g)),
    ]
    assert.ok(read.length > 20, `the source was read (${read.length} settings found)`)
    assert.deepEqual([...new Set(read.filter((name) => !listed.has(name)))], [], 'settings read but missing from SETTINGS in src/config.ts')
  })

  it('lists each setting once', () => {
    const names = SETTINGS.map((setting) => setting.name)
    assert.deepEqual(
      names.filter((name, i) => names.indexOf(name) !== i),
      [],
    )
  })
})
