import assert from 'node:assert/strict'
import { formField } from './html.js'
import type { HttpClient } from './http-client.js'
import type { TestServer } from './server.js'

/** A portal page that must answer 200; its HTML. */
export async function pageHtml(browser: HttpClient, path: string): Promise<string> {
  const response = await browser.get(path)
  const html = await response.text()
  assert.equal(response.status, 200, `GET ${path} answered ${response.status}: ${html.slice(0, 500)}`)
  return html
}

/**
 * Posts a form the way a person does: loads the page that shows it, takes
 * its CSRF token, and sends the fields. Repeated fields are given as arrays.
 */
export async function submitForm(browser: HttpClient, pagePath: string, action: string, fields: Record<string, string | string[]> = {}): Promise<Response> {
  const csrf = formField(await pageHtml(browser, pagePath), '_csrf')
  return postFields(browser, action, { ...fields, _csrf: csrf })
}

export function postFields(browser: HttpClient, action: string, fields: Record<string, string | string[]>): Promise<Response> {
  const body = new URLSearchParams()
  for (const [name, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) body.append(name, v)
  return browser.request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })
}

/** The 303 after a successful POST; where it sends the browser. */
export function seeOther(response: Response): string {
  assert.equal(response.status, 303, `expected 303 See Other, got ${response.status}`)
  const location = response.headers.get('location')
  assert.ok(location, '303 without a Location')
  return location
}

/** The page a form's 303 leads to, fetched as the browser does after Post/Redirect/Get. */
export async function followed(browser: HttpClient, response: Response): Promise<Response> {
  return browser.get(seeOther(response))
}

/** The status of GET /api/v2/me with the token as a Bearer token. */
export async function meStatus(server: TestServer, token: string): Promise<number> {
  const response = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${token}` } })
  await response.arrayBuffer()
  return response.status
}

/** The day of a moment as the portal writes it in UTC, e.g. "24 Aug 2019", worked out independently of the portal's formatter. */
export function utcDay(date: Date): string {
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][date.getUTCMonth()]
  return `${date.getUTCDate()} ${month} ${date.getUTCFullYear()}`
}
