import type { Client } from '../clients/types.js'
import type { Executor } from '../db/executor.js'
import { findConsent, upsertConsent } from '../db/consents.js'
import { formatResources, splitResources } from '../resources/resources.js'
import { coversScopes, formatScopes, splitScopes } from '../protocol/scopes.js'

/*
 * "Unobstructive": a user who already approved a client in a team for the
 * scopes and resources it asks for is not asked again, when the client is
 * one whose approvals may be remembered. The product's own apps, marked by
 * the operator, skip the page altogether.
 */

/** What an authorization request asks consent for. */
export interface ConsentRequest {
  client: Client
  /** `prompt=consent`: the page is shown whatever is on file. */
  forceConsent: boolean
  scopes: string[]
  resources: readonly { uri: string }[]
}

/** The approval on file for a user, a client and a team. */
export interface ConsentOnFile {
  scopes: string[]
  resources: string[]
  /** Recorded for a client that skips the page: the user never saw it. */
  implied: boolean
}

/**
 * Whether an approval on file may stand in for the consent page. Only for
 * confidential clients a person registered: any program on the user's
 * machine can present a public client's id with its own PKCE challenge and
 * loopback redirect (RFC 8252 §8.6, RFC 9700 §2.1.1), so such clients, and
 * clients that registered themselves, are asked every time.
 */
export function mayRememberConsent(client: Client): boolean {
  return client.isConfidential && client.kind === 'registered'
}

/** The product's own apps, marked by the operator; never a public client, whose identity no secret proves. */
export function skipsConsent(client: Client): boolean {
  return client.skipConsent && client.isFirstParty && client.isConfidential
}

/**
 * What decides whether the page is shown before any approval on file is
 * read: `on-file` when only that approval can tell.
 */
export type ConsentRule = 'prompt-consent' | 'always-asked' | 'skips-consent' | 'on-file'

export function consentRule(request: ConsentRequest): ConsentRule {
  if (request.forceConsent) return 'prompt-consent'
  if (!mayRememberConsent(request.client)) return 'always-asked'
  if (skipsConsent(request.client)) return 'skips-consent'
  return 'on-file'
}

/** Whether the page may be left out: the client skips it, or an approval on file covers the request. */
export function hasConsent(request: ConsentRequest, onFile: ConsentOnFile | undefined): boolean {
  const rule = consentRule(request)
  if (rule !== 'on-file') return rule === 'skips-consent'
  // Only implied by the switch that is now off: the user never saw the page, so they see it now.
  if (onFile === undefined || onFile.implied || !scopesCovered(onFile.scopes, request.scopes)) return false
  return request.resources.every((r) => onFile.resources.includes(r.uri))
}

/**
 * No scopes means all of the user's permissions in the team (see scopes.ts),
 * so an approval of some scopes does not cover a request for none, and an
 * approval of none covers every request.
 */
function scopesCovered(approved: string[], requested: string[]): boolean {
  if (approved.length === 0) return true
  return requested.length > 0 && coversScopes(approved, requested)
}

/**
 * What is on file after an approval: the union of what was approved before
 * and now (none, meaning all, absorbs the rest). `implied` when the client
 * skipped the page and the user never approved on it; once they have, it
 * stays a decision of theirs.
 */
export function rememberedOnApproval(onFile: ConsentOnFile | undefined, request: ConsentRequest, onConsentPage: boolean): ConsentOnFile {
  const approvedAll = (onFile !== undefined && onFile.scopes.length === 0) || request.scopes.length === 0
  return {
    scopes: approvedAll ? [] : [...new Set([...(onFile?.scopes ?? []), ...request.scopes])].sort(),
    resources: [...new Set([...(onFile?.resources ?? []), ...request.resources.map((r) => r.uri)])],
    implied: !onConsentPage && skipsConsent(request.client) && (onFile === undefined || onFile.implied),
  }
}

/**
 * What the consent page asks for, split by what the user approved before:
 * a client coming back for more (incremental consent, the MCP scope
 * challenge) is asked only for what is new, and what was approved before is
 * listed apart, so the user still sees everything the token will carry.
 * `all` stands for a request or approval of no scopes (all permissions).
 */
export interface AskedOnPage {
  scopes: { new: string[] | 'all'; approved: string[] | 'all' }
  resources: { new: string[]; approved: string[] }
}

export function askedOnPage(request: ConsentRequest, onFile: ConsentOnFile | undefined): AskedOnPage {
  const uris = request.resources.map((r) => r.uri)
  // An approval only implied by a client that skipped the page was never the user's decision.
  if (onFile === undefined || onFile.implied) {
    return { scopes: { new: request.scopes.length === 0 ? 'all' : request.scopes, approved: [] }, resources: { new: uris, approved: [] } }
  }
  const resources = { new: uris.filter((u) => !onFile.resources.includes(u)), approved: uris.filter((u) => onFile.resources.includes(u)) }
  if (onFile.scopes.length === 0) return { scopes: { new: [], approved: 'all' }, resources }
  if (request.scopes.length === 0) return { scopes: { new: 'all', approved: [] }, resources }
  return {
    scopes: { new: request.scopes.filter((s) => !onFile.scopes.includes(s)), approved: request.scopes.filter((s) => onFile.scopes.includes(s)) },
    resources,
  }
}

/** Who approves what: the user, the client and the team the tokens act in. */
export interface ConsentHolder {
  userId: number
  clientId: string
  teamId: number
}

/** The approval on file, read only when the request's rule depends on it. */
export async function consentOnFile(db: Executor, request: ConsentRequest, holder: Omit<ConsentHolder, 'clientId'>): Promise<ConsentOnFile | undefined> {
  if (consentRule(request) !== 'on-file') return undefined
  return readConsent(db, { ...holder, clientId: request.client.id })
}

/** The approval on file for a user, a client and a team, whatever the client's consent rule. */
export async function readConsent(db: Executor, holder: ConsentHolder): Promise<ConsentOnFile | undefined> {
  const row = await findConsent(db, holder.userId, holder.clientId, holder.teamId)
  if (row === undefined) return undefined
  return { scopes: splitScopes(row.scopes), resources: splitResources(row.resources), implied: row.implied === 1 }
}

/** Records an approval, merged with the one on file (see rememberedOnApproval). */
export async function rememberApproval(
  db: Executor,
  request: ConsentRequest,
  holder: Omit<ConsentHolder, 'clientId'>,
  onConsentPage: boolean,
  now: number,
): Promise<void> {
  const { userId, teamId } = holder
  const onFile = await readConsent(db, { userId, teamId, clientId: request.client.id })
  const remembered = rememberedOnApproval(onFile, request, onConsentPage)
  const stored = { scopes: formatScopes(remembered.scopes), resources: formatResources(remembered.resources), implied: remembered.implied }
  await upsertConsent(db, userId, request.client.id, teamId, stored, now)
}
