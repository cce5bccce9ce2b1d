import type { Config } from '../config.js'
import type { Db } from '../db/connection.js'
import { deleteApiUsageBefore } from '../db/api-usage.js'
import { deleteRowsBefore, type PrunableTable } from '../db/expired-rows.js'
import { deleteSigningKeysRetiredBefore } from '../db/signing-keys.js'
import { deleteEmptyGrants } from '../db/tokens.js'
import { deleteAbandonedClients } from '../db/clients.js'
import { deleteExpiredIdempotencyKeys } from '../db/admin-idempotency.js'
import { KEY_REFRESH_MS, signedTokenLifetimeMs } from '../keys/signing-keys.js'

export interface PruneCounts {
  authorization_codes: number
  authorization_requests: number
  device_authorizations: number
  access_tokens: number
  refresh_tokens: number
  grants: number
  sessions: number
  session_clients: number
  throttle_counters: number
  signing_keys: number
  personal_access_tokens: number
  activities: number
  form_submissions: number
  shown_once: number
  /** Password reset and e-mail links past their lifetime. */
  account_links: number
  api_usage: number
  registration_tokens: number
  /** Self-registered clients never authorised within a day, or without a token for GATEHOUSE_REGISTERED_CLIENT_TTL_DAYS. */
  registered_clients: number
  /** The jti of client assertions (RFC 7523), kept until the assertion expires. */
  client_assertions: number
  /** Admin API answers kept for retries, past their window. */
  admin_idempotency_keys: number
}

export interface PruneDeps {
  db: Db
  config: Pick<Config, 'accessTokenTtlSeconds' | 'idTokenTtlSeconds' | 'activityRetentionDays' | 'registeredClientTtlDays'>
  clock: () => number
}

const BATCH = 500
const DAY_MS = 24 * 3600 * 1000
/** A client that registered itself and was not authorised within a day was most likely abandoned, or never meant. */
const UNAUTHORISED_CLIENT_MS = DAY_MS

/** Deletes in small batches, each its own statement, so no lock is held for long while requests go on. */
async function inBatches(deleteBatch: () => Promise<number>): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = await deleteBatch()
    total += deleted
    if (deleted < BATCH) return total
  }
}

/**
 * Removes what can never be used again: expired codes, device codes, consent forms and tokens (revoked
 * ones once they are past expiry too, so a revoked token is never mistaken
 * for an unknown one while it could still verify), grants with no token
 * left, expired sessions and throttle counts, retired keys no live token was signed with,
 * expired personal access tokens, activity and API usage older than the
 * activity log's retention, expired initial access tokens, self-registered
 * clients left unused, the portal's records of form submissions and
 * secrets waiting to be shown, the jti of client assertions past their expiry,
 * and admin API answers kept for retries.
 */
export async function pruneExpired(ctx: PruneDeps): Promise<PruneCounts> {
  const db = ctx.db.kysely
  const now = ctx.clock()
  const retainedFrom = now - ctx.config.activityRetentionDays * 24 * 3600 * 1000
  const expired = (table: PrunableTable, before = now) => inBatches(() => deleteRowsBefore(db, table, before, BATCH))
  return {
    authorization_codes: await expired('authorization_codes'),
    authorization_requests: await expired('authorization_requests'),
    device_authorizations: await expired('device_authorizations'),
    access_tokens: await expired('access_tokens'),
    refresh_tokens: await expired('refresh_tokens'),
    grants: await inBatches(() => deleteEmptyGrants(db, now, BATCH)),
    sessions: await expired('sessions'),
    session_clients: await expired('session_clients'),
    throttle_counters: await expired('throttle_counters'),
    signing_keys: await deleteSigningKeysRetiredBefore(db, now - signedTokenLifetimeMs(ctx.config) - KEY_REFRESH_MS),
    personal_access_tokens: await expired('personal_access_tokens'),
    activities: await expired('activities', retainedFrom),
    api_usage: await inBatches(() => deleteApiUsageBefore(db, retainedFrom, BATCH)),
    registration_tokens: await expired('registration_tokens'),
    registered_clients: await inBatches(() =>
      deleteAbandonedClients(db, { unauthorisedBefore: now - UNAUTHORISED_CLIENT_MS, unusedSince: now - ctx.config.registeredClientTtlDays * DAY_MS }, BATCH),
    ),
    form_submissions: await expired('form_submissions'),
    shown_once: await expired('shown_once'),
    account_links: await expired('account_links'),
    client_assertions: await expired('client_assertions'),
    admin_idempotency_keys: await inBatches(() => deleteExpiredIdempotencyKeys(db, now, BATCH)),
  }
}
