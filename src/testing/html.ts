/**
 * Reading the portal's HTML in tests: the one place that knows how the
 * templates escape text, so every test decodes a page the same way.
 */

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }

/** Text with HTML character references (named, decimal, hexadecimal) replaced by the characters they stand for. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
      return String.fromCodePoint(code)
    }
    return NAMED[ref.toLowerCase()] ?? whole
  })
}

/** Text escaped the way the templates escape it, to look for it in a page. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}

/**
 * What a reader sees of an HTML fragment: tags dropped, white space
 * collapsed, references decoded. `<bdi>` only isolates a name's direction
 * within its sentence, so it leaves no space behind.
 */
export function plainText(html: string): string {
  return decodeEntities(
    html
      .replace(/<\/?bdi>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  )
}

/** The decoded value of a form field in a page, e.g. `_csrf`. */
export function formField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)
  if (!match) throw new Error(`no field ${name} in page`)
  return decodeEntities(match[1]!)
}

/** The hidden fields of the page's form posting to `action` (not those of its other forms), decoded. */
export function hiddenFields(html: string, action: string): Record<string, string> {
  const form = new RegExp(`<form method="post" action="${action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[\\s\\S]*?</form>`).exec(html)
  if (!form) throw new Error(`no form posting to ${action} in the page`)
  const fields: Record<string, string> = {}
  for (const match of form[0].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[match[1]!] = decodeEntities(match[2]!)
  return fields
}

/** The texts of the leaf elements (no nested element of the same kind) marked with data-testid, in page order. */
export function testIdTexts(html: string, testId: string): string[] {
  return [...html.matchAll(new RegExp(`<(\\w+)[^>]*data-testid="${testId}"[^>]*>([\\s\\S]*?)</\\1>`, 'g'))].map((m) => plainText(m[2]!))
}
