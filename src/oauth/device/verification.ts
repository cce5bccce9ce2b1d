import { formatAmr } from '../../accounts/assurance.js'
import type { ActivityLog } from '../../activity/recorder.js'
import { findClient } from '../../clients/clients.js'
import type { Client } from '../../clients/types.js'
import type { Config } from '../../config.js'
import { rememberApproval } from '../../consent/remembered.js'
import { hashSecret } from '../../crypto/random.js'
import type { Db } from '../../db/connection.js'
import { decideDeviceAuthorization, findUndecidedDeviceAuthorization } from '../../db/device-authorizations.js'
import { OAuthError } from '../../protocol/errors.js'
import { splitScopes } from '../../protocol/scopes.js'
import { countAgainst, forgive, type AttemptWindow } from '../../ratelimit/attempts.js'
import { resolveResources, splitResources } from '../../resources/resources.js'
import type { Resource } from '../../resources/types.js'
import { canonicalUserCode } from './user-code.js'

/*
 * The /device page's side of RFC 8628 (§3.3): the user enters the code their
 * device shows, sees which application asks for what, and approves or
 * denies it for one team.
 */

export interface DeviceVerificationDeps {
  db: Db
  activity: ActivityLog
  config: Pick<Config, 'issuer'>
  clock: () => number
}

/**
 * RFC 8628 §5.1: user codes are short, so guessing them is throttled per
 * address. Every code entered counts; one that finds a request is taken back.
 */
const USER_CODE_GUESSES: AttemptWindow = { limit: 20, windowSeconds: 15 * 60 }

/** A request waiting for the user's decision, as the page shows it. */
export interface DeviceRequest {
  /** Canonical (no dash). */
  userCode: string
  client: Client
  scopes: string[]
  resources: Resource[]
}

export type DeviceLookup = { request: DeviceRequest } | { refused: 'unknown' | 'throttled' }

/** The request a typed user code names, if it is still waiting for a decision; the code is found by its hash. */
export async function lookUpDeviceRequest(deps: DeviceVerificationDeps, typed: string, address: string): Promise<DeviceLookup> {
  const now = deps.clock()
  const key = `user-code:${address}`
  if ((await countAgainst(deps.db.kysely, key, USER_CODE_GUESSES, now)).over) return { refused: 'throttled' }
  const userCode = canonicalUserCode(typed)
  const row = userCode === undefined ? undefined : await findUndecidedDeviceAuthorization(deps.db.kysely, hashSecret(userCode), now)
  const client = row && (await findClient(deps.db, row.clientId))
  if (userCode === undefined || !row || !client) return { refused: 'unknown' }
  await forgive(deps.db.kysely, key)
  let resources
  try {
    resources = await resolveResources(deps.db, deps.config.issuer, splitResources(row.resources))
  } catch (err) {
    // A resource deleted since the device asked: the request can no longer be approved as asked.
    if (err instanceof OAuthError) return { refused: 'unknown' }
    throw err
  }
  return { request: { userCode, client, scopes: splitScopes(row.scopes), resources } }
}

/** Who decides: the user, the team the tokens are to act in, their login, and where they decide from. */
export interface DeviceApprover {
  userId: number
  teamId: number
  /** Epoch ms of the session's password login. */
  authenticatedAt: number
  /** RFC 8176 methods of that login. */
  amr: string[]
  address: string
}

/**
 * Records the user's decision; an approval is recorded as consent, as on
 * the consent page, so the app shows on Team apps and can be revoked there.
 * False when the request was decided already or expired meanwhile.
 */
export async function decideDeviceRequest(deps: DeviceVerificationDeps, request: DeviceRequest, approver: DeviceApprover, approved: boolean): Promise<boolean> {
  const { userId, teamId } = approver
  const now = deps.clock()
  const userCodeHash = hashSecret(request.userCode)
  const decision = approved ? { approved, userId, teamId, authTime: approver.authenticatedAt, amr: formatAmr(approver.amr) } : { approved }
  const decided = await deps.db.kysely.transaction().execute(async (trx) => {
    // The conditional UPDATE goes first: it takes SQLite's write lock before anything is read.
    if (!(await decideDeviceAuthorization(trx, userCodeHash, decision, now))) return false
    if (approved)
      await rememberApproval(
        trx,
        { client: request.client, forceConsent: false, scopes: request.scopes, resources: request.resources },
        { userId, teamId },
        true,
        now,
      )
    return true
  })
  if (decided && approved)
    deps.activity.record({ action: 'app.authorised', teamId, userId, clientId: request.client.id, detail: request.client.name, address: approver.address })
  return decided
}
