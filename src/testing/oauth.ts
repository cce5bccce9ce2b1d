import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { startSession } from '../accounts/sessions.js'
import type { User } from '../accounts/types.js'
import { sessionCookieName } from '../http/session.js'
import { REDIRECT } from './fixtures.js'
import { hiddenFields } from './html.js'
import { HttpClient } from './http-client.js'
import type { TestServer } from './server.js'

/** A fresh RFC 7636 verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/**
 * A browser already logged in as the user, without going through the login
 * form: the form costs a scrypt hash each time, and the login round trip has
 * tests of its own.
 */
export async function browserFor(server: TestServer, user: User): Promise<HttpClient> {
  const browser = new HttpClient(server.url)
  const session = await startSession(server.ctx.db, user, server.ctx.clock())
  browser.cookies.set(sessionCookieName(server.ctx), session.id)
  return browser
}

/** `/oauth/authorize?…`, leaving out parameters given as undefined. */
export function authorizePath(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value)
  return `/oauth/authorize?${query.toString()}`
}

/** The hidden fields of the consent form (not those of the page's other forms), decoded. */
export function consentFields(html: string): Record<string, string> {
  return hiddenFields(html, '/oauth/authorize')
}

/** The redirect of a 302 response, as a URL. */
export function redirectOf(response: Response): URL {
  assert.equal(response.status, 302, `expected a redirect, got ${response.status}`)
  const location = response.headers.get('location')
  assert.ok(location, 'redirect without a Location')
  return new URL(location)
}

/**
 * Runs the browser part of the flow for a logged-in browser: the GET, and the
 * consent form when it is shown. Returns where the user is sent back to.
 */
export async function authorize(browser: HttpClient, params: Record<string, string | undefined>, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
  const response = await browser.get(authorizePath(params))
  if (response.status === 302) return redirectOf(response)
  assert.equal(response.status, 200, `the authorization request was answered with ${response.status}`)
  const fields = consentFields(await response.text())
  return redirectOf(await browser.postForm('/oauth/authorize', { ...fields, decision }))
}

/** An authorization code for the request, approving on the user's behalf. */
export async function codeFor(browser: HttpClient, params: Record<string, string | undefined>): Promise<string> {
  const back = await authorize(browser, params)
  const code = back.searchParams.get('code')
  assert.ok(code, `no code in ${back.href}`)
  return code
}

/** RFC 6749 §2.3.1: id and secret form-urlencoded, joined by a colon, base64-encoded. */
export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

export type Json = Record<string, unknown>

/** A POST to one of the token, revocation or introspection endpoints; returns the response and its parsed body. */
export async function postOAuth(
  server: Pick<TestServer, 'url'>,
  path: '/oauth/token' | '/oauth/revoke' | '/oauth/introspect',
  body: Record<string, string> | { json: unknown },
  headers: Record<string, string> = {},
): Promise<{ response: Response; body: Json }> {
  const init: RequestInit =
    'json' in body && Object.keys(body).length === 1
      ? { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body.json) }
      : {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams(body as Record<string, string>).toString(),
        }
  const response = await fetch(new URL(path, server.url), init)
  const text = await response.text()
  return { response, body: text === '' ? {} : (JSON.parse(text) as Json) }
}

/** A client that authenticates with its id and secret as form fields (client_secret_post, RFC 6749 §2.3.1). */
export interface ClientCredentials {
  id: string
  secret: string
}

/** What the token endpoint issues; the body of its 200. */
export type IssuedTokens = Json & { access_token: string; refresh_token: string }

/** The token endpoint's answer to a code sent back to REDIRECT unless the params say otherwise, whatever it is (RFC 6749 §4.1.3). */
export function codeExchange(
  server: TestServer,
  client: ClientCredentials,
  code: string,
  params: Record<string, string> = {},
): Promise<{ response: Response; body: Json }> {
  return postOAuth(server, '/oauth/token', {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: client.id,
    client_secret: client.secret,
    ...params,
  })
}

/** The tokens the client gets for a code; the token endpoint must answer 200. */
export async function redeemCode(server: TestServer, client: ClientCredentials, code: string, params: Record<string, string> = {}): Promise<IssuedTokens> {
  const { response, body } = await codeExchange(server, client, code, params)
  assert.equal(response.status, 200, JSON.stringify(body))
  return body as IssuedTokens
}

/** The token endpoint's answer to a refresh token, whatever it is (RFC 6749 §6). */
export function refreshExchange(server: TestServer, client: ClientCredentials, refreshToken: string): Promise<{ response: Response; body: Json }> {
  return postOAuth(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.id, client_secret: client.secret })
}

/** The token endpoint's answer to a public client redeeming a code with its PKCE verifier and no secret (RFC 7636 §4.5, RFC 8252 §8.4). */
export function pkceExchange(
  server: Pick<TestServer, 'url'>,
  exchange: { clientId: string; code: string; redirectUri: string; verifier: string },
): Promise<{ response: Response; body: Json }> {
  return postOAuth(server, '/oauth/token', {
    grant_type: 'authorization_code',
    client_id: exchange.clientId,
    code: exchange.code,
    redirect_uri: exchange.redirectUri,
    code_verifier: exchange.verifier,
  })
}

/** Introspects a token as the given client; the parsed answer. */
export async function introspect(server: TestServer, token: string, clientId: string, clientSecret: string): Promise<Json> {
  const { response, body } = await postOAuth(server, '/oauth/introspect', { token, client_id: clientId, client_secret: clientSecret })
  assert.equal(response.status, 200, JSON.stringify(body))
  return body
}
