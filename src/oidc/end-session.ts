import { findClient } from '../clients/clients.js'
import { isSelfRegistered, type Client } from '../clients/types.js'
import type { Config } from '../config.js'
import type { Db } from '../db/connection.js'
import type { KeyRing } from '../keys/signing-keys.js'
import { readIdTokenHint, type IdTokenHint } from './id-token.js'

/** The parameters of a logout request that say where the browser goes next (RP-Initiated Logout 1.0 §2). */
export interface LogoutRequest {
  idTokenHint: string | undefined
  clientId: string | undefined
  postLogoutRedirectUri: string | undefined
}

export type CheckedLogout =
  | {
      hint: IdTokenHint | undefined
      client: Client | undefined
      target: string | undefined
      /** Whether the browser is sent to `target`, or only offered a link to it (see followsPostLogoutTarget). */
      follows: boolean
    }
  | { refused: string }

/** §2: the client the request is about is the one the hint was issued to, which client_id, if also given, must name. */
export function logoutClientId(hint: IdTokenHint | undefined, clientId: string | undefined): { clientId: string | undefined } | { refused: string } {
  if (hint && clientId !== undefined && hint.clientId !== clientId) return { refused: 'The client_id is not the one the id_token_hint was issued to.' }
  return { clientId: hint?.clientId ?? clientId }
}

/**
 * §3.1: the browser goes after logout only to a URI the client registered,
 * compared exactly; any other is refused rather than followed, so the
 * endpoint never becomes an open redirector.
 */
export function postLogoutTarget(
  client: Pick<Client, 'postLogoutRedirectUris'> | undefined,
  uri: string | undefined,
): { target: string | undefined } | { refused: string } {
  if (uri === undefined) return { target: undefined }
  if (!client || !client.postLogoutRedirectUris.includes(uri)) return { refused: 'The post_logout_redirect_uri is not registered for this application.' }
  return { target: uri }
}

/**
 * RFC 9700 §4.11.2: the browser is sent on automatically only to a URI
 * Gatehouse trusts. A client that registered itself, or is named by a
 * metadata document, may have registered any URI; without an id_token_hint,
 * nothing shows the user ever signed in to it, and following its URI would
 * let anyone bounce people through Gatehouse's logout to a phishing page.
 * Then the logged-out page offers the URI as a link instead.
 */
export function followsPostLogoutTarget(client: Pick<Client, 'kind'> | undefined, hint: IdTokenHint | undefined): boolean {
  return hint !== undefined || (client !== undefined && !isSelfRegistered(client))
}

/** §3: the state the client sent goes back with it. */
export function postLogoutRedirect(target: string, state: string | undefined): string {
  const url = new URL(target)
  if (state !== undefined) url.searchParams.append('state', state)
  return url.href
}

export interface EndSessionDeps {
  db: Db
  keyRing: KeyRing
  config: Pick<Config, 'issuer'>
}

/**
 * RP-Initiated Logout 1.0 §2–§3: the hint must be one of our ID tokens, the
 * client it names the one in client_id, and the post-logout URI one that
 * client registered, exactly; otherwise no redirect at all.
 */
export async function checkLogoutRequest(deps: EndSessionDeps, request: LogoutRequest): Promise<CheckedLogout> {
  const hint = request.idTokenHint === undefined ? undefined : await readIdTokenHint(deps.keyRing, deps.config.issuer, request.idTokenHint)
  if (request.idTokenHint !== undefined && !hint) return { refused: 'The id_token_hint is not an ID token of this server.' }
  const named = logoutClientId(hint, request.clientId)
  if ('refused' in named) return named
  const client = named.clientId === undefined ? undefined : await findClient(deps.db, named.clientId)
  const target = postLogoutTarget(client, request.postLogoutRedirectUri)
  if ('refused' in target) return target
  return { hint, client, target: target.target, follows: followsPostLogoutTarget(client, hint) }
}
