import assert from 'node:assert/strict'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose'
import type { HttpClient } from './http-client.js'
import { codeFor, redeemCode, type Json } from './oauth.js'
import type { TestServer } from './server.js'

export interface TestClient {
  id: string
  secret: string
  redirectUri: string
}

/** Runs the code flow for a logged-in browser and exchanges the code; the token response. */
export async function openIdTokens(server: TestServer, browser: HttpClient, client: TestClient, params: Record<string, string | undefined>): Promise<Json> {
  const code = await codeFor(browser, { client_id: client.id, redirect_uri: client.redirectUri, response_type: 'code', ...params })
  return exchangeCode(server, client, code)
}

export function exchangeCode(server: TestServer, client: TestClient, code: string): Promise<Json> {
  return redeemCode(server, client, code, { redirect_uri: client.redirectUri })
}

/** Checks an ID token the way a relying party does (OpenID Connect Core §3.1.3.7), against the published keys. */
/** RS256 unless the client chose another `id_token_signed_response_alg`. */
export async function verifyIdToken(server: TestServer, idToken: unknown, clientId: string, alg = 'RS256'): Promise<JWTPayload> {
  assert.equal(typeof idToken, 'string', 'no id_token')
  const jwks = (await (await fetch(new URL('/oauth/jwks', server.url))).json()) as JSONWebKeySet
  const { payload } = await jwtVerify(idToken as string, createLocalJWKSet(jwks), {
    issuer: server.ctx.config.issuer,
    audience: clientId,
    algorithms: [alg],
    currentDate: new Date(server.ctx.clock()),
  })
  return payload
}

export async function userinfoOf(server: TestServer, init: RequestInit & { query?: string } = {}): Promise<{ response: Response; body: Json }> {
  const response = await fetch(new URL(`/oauth/userinfo${init.query ?? ''}`, server.url), init)
  const text = await response.text()
  return { response, body: text === '' ? {} : (JSON.parse(text) as Json) }
}
