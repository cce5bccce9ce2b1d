import { randomUUID } from 'node:crypto'
import { mayUseGrant, withinDeclaredScope } from '../../clients/declared-use.js'
import type { Client } from '../../clients/types.js'
import type { Config } from '../../config.js'
import { hashSecret, randomSecret } from '../../crypto/random.js'
import type { Db } from '../../db/connection.js'
import { insertDeviceAuthorization } from '../../db/device-authorizations.js'
import { isUniqueViolation } from '../../db/errors.js'
import { UnauthorizedClient } from '../../protocol/errors.js'
import { param, repeatedParam, type RawParams } from '../../protocol/params.js'
import { formatScopes, parseScope } from '../../protocol/scopes.js'
import { formatResources, resolveResources } from '../../resources/resources.js'
import { displayUserCode, newUserCode } from './user-code.js'

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** Where the user enters the code (RFC 8628 §3.2 `verification_uri`). */
export const DEVICE_VERIFICATION_PATH = '/device'

const EXPIRES_IN_SECONDS = 600
const INTERVAL_SECONDS = 5

export interface DeviceAuthorizationDeps {
  db: Db
  config: Pick<Config, 'issuer'>
  clock: () => number
}

/** RFC 8628 §3.2. */
export interface DeviceAuthorizationResponse {
  device_code: string
  user_code: string
  verification_uri: string
  verification_uri_complete: string
  expires_in: number
  interval: number
}

/** The link that fills in the code; the user still confirms it on the page. */
export function verificationUriComplete(issuer: string, userCode: string): string {
  return `${issuer}${DEVICE_VERIFICATION_PATH}?user_code=${encodeURIComponent(displayUserCode(userCode))}`
}

/**
 * RFC 8628 §3.1–3.2: a device asks to be authorised. The scope and the
 * resources are checked as an authorization request's are (RFC 8707), and
 * kept with the request for the user to see.
 */
export async function startDeviceAuthorization(ctx: DeviceAuthorizationDeps, client: Client, params: RawParams): Promise<DeviceAuthorizationResponse> {
  // RFC 7591 §2: a client that registered itself uses only the grant types it declared.
  if (!mayUseGrant(client, DEVICE_CODE_GRANT)) throw new UnauthorizedClient(`This application did not register for the ${DEVICE_CODE_GRANT} grant.`)
  const resources = await resolveResources(ctx.db, ctx.config.issuer, repeatedParam(params, 'resource'))
  const scopes = withinDeclaredScope(
    client,
    parseScope(
      param(params, 'scope'),
      resources.flatMap((r) => r.scopes),
    ),
  )
  const deviceCode = randomSecret(32)
  const now = ctx.clock()
  const row = {
    device_code_hash: hashSecret(deviceCode),
    client_id: client.id,
    scopes: formatScopes(scopes),
    resources: formatResources(resources.map((r) => r.uri)),
    interval_seconds: INTERVAL_SECONDS,
    grant_id: randomUUID(),
    created_at: now,
    expires_at: now + EXPIRES_IN_SECONDS * 1000,
  }
  const userCode = await insertWithFreshUserCode(ctx, row)
  return {
    device_code: deviceCode,
    user_code: displayUserCode(userCode),
    verification_uri: ctx.config.issuer + DEVICE_VERIFICATION_PATH,
    verification_uri_complete: verificationUriComplete(ctx.config.issuer, userCode),
    expires_in: EXPIRES_IN_SECONDS,
    interval: INTERVAL_SECONDS,
  }
}

/** User codes are short enough to collide now and then among those pending: a collision draws another. */
async function insertWithFreshUserCode(
  ctx: DeviceAuthorizationDeps,
  row: Omit<Parameters<typeof insertDeviceAuthorization>[1], 'user_code_hash'>,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const userCode = newUserCode()
    try {
      await insertDeviceAuthorization(ctx.db.kysely, { ...row, user_code_hash: hashSecret(userCode) })
      return userCode
    } catch (err) {
      if (!isUniqueViolation(err) || attempt === 3) throw err
    }
  }
}
