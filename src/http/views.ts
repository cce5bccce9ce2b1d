import { Eta } from 'eta'
import { fileURLToPath } from 'node:url'
import type { Brand } from '../config.js'
import { logoSrc } from './branding.js'

const eta = new Eta({
  views: fileURLToPath(new URL('../../../views', import.meta.url)),
  autoEscape: true,
  cache: true,
})

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/**
 * A sentence of ours with `{key}` placeholders, as HTML: the text escaped,
 * each name in `<bdi>`, so a right-to-left name cannot reorder the words
 * around it (Unicode TR #9, §6.5 isolates).
 */
export function withNames(sentence: string, names: Record<string, string>): string {
  return sentence
    .split(/(\{\w+\})/)
    .map((part) => {
      const key = /^\{(\w+)\}$/.exec(part)?.[1]
      return key !== undefined && Object.hasOwn(names, key) ? `<bdi>${escapeHtml(names[key]!)}</bdi>` : escapeHtml(part)
    })
    .join('')
}

/** The same sentence as plain text (a page title), each name between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE. */
export function withNamesText(sentence: string, names: Record<string, string>): string {
  return sentence.replace(/\{(\w+)\}/g, (placeholder, key: string) => (Object.hasOwn(names, key) ? `\u2068${names[key]}\u2069` : placeholder))
}

/** A page, with the product's name, logo and accent colour in its layout. */
export function render(template: string, brand: Brand, data: Record<string, unknown>): string {
  return eta.render(template, { ...data, brand: { productName: brand.productName, logoSrc: logoSrc(brand) }, withNames, withNamesText })
}
