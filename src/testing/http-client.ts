import { formField } from './html.js'

/**
 * A fetch wrapper that keeps cookies like a browser does and never follows
 * redirects, so tests can look at each hop.
 */
export class HttpClient {
  readonly cookies = new Map<string, string>()

  constructor(readonly baseUrl: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0 && !headers.has('cookie')) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    }
    const response = await fetch(new URL(path, this.baseUrl), { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const index = pair!.indexOf('=')
      const name = pair!.slice(0, index).trim()
      const value = pair!.slice(index + 1).trim()
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a))
      if (expired || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, { headers })
  }

  postForm(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    })
  }

  postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  }
}

/** Logs the client in through the login form; returns the response to the form post. */
export async function logIn(client: HttpClient, email: string, password: string, returnTo?: string): Promise<Response> {
  const page = await client.get(returnTo ? `/login?return_to=${encodeURIComponent(returnTo)}` : '/login')
  const html = await page.text()
  return client.postForm('/login', { email, password, _csrf: formField(html, '_csrf'), return_to: formField(html, 'return_to') })
}
