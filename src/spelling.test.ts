import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { AUTHORIZATION_TITLES, BANNERS, CONFIRMATIONS, ELSEWHERE, MESSAGES } from './messages.js'

const VIEWS = fileURLToPath(new URL('../../views', import.meta.url))
/** American spellings in words people read; wire names (authorization_code, the Authorization header, /oauth/authorize) are left alone. */
const AMERICAN = /\b(authoriz\w*|unauthoriz\w*|colou?r(?<!colour)|organiz\w*|recogniz\w*)\b/i
const WIRE = /Authorization(:| header)|\w_authoriz\w*|authoriz\w*_\w|\/authorize\b/g

/** The words of a template a person sees: its code, tags and attributes taken out. */
function shownText(template: string): string {
  return template
    .replace(/<%[\s\S]*?%>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(WIRE, ' ')
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings)
  return []
}

describe('spelling', () => {
  it('pages are written in British English (authorise, colour), wire names aside', () => {
    for (const file of readdirSync(VIEWS).filter((f) => f.endsWith('.eta'))) {
      const found = AMERICAN.exec(shownText(readFileSync(`${VIEWS}/${file}`, 'utf8')))
      assert.equal(found, null, `${file}: "${found?.[0]}"`)
    }
  })

  it('messages, banners, confirmations and titles are written in British English', () => {
    for (const text of strings({ MESSAGES, BANNERS, CONFIRMATIONS, ELSEWHERE, AUTHORIZATION_TITLES })) {
      const found = AMERICAN.exec(text.replace(WIRE, ' '))
      assert.equal(found, null, `"${text}"`)
    }
  })
})
