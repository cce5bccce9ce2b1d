import type { Keys } from '../../crypto/master-key.js'
import { hmac, safeEqual } from '../../crypto/random.js'
import type { RawParams } from '../../protocol/params.js'

/**
 * Added to the request when it sends the user to log in again (prompt=login,
 * max_age): when the login was asked for, signed so that nobody can claim a
 * login was asked for earlier than it was; valid for ten minutes.
 */
export const LOGIN_REQUESTED = 'login_requested'
const LOGIN_REQUEST_TTL_MS = 10 * 60 * 1000

export interface LoginMarkDeps {
  keys: Pick<Keys, 'csrf'>
  clock: () => number
}

function loginRequestMac(deps: LoginMarkDeps, clientId: string, at: number): string {
  return hmac(deps.keys.csrf, `login-requested:${clientId}:${at}`)
}

/** The value of the mark for a login asked for now. */
export function loginRequestedMark(deps: LoginMarkDeps, clientId: string): string {
  const now = deps.clock()
  return `${now}.${loginRequestMac(deps, clientId, now)}`
}

/** When the request asked for the login it came back with, if its mark is genuine and recent. */
export function loginRequestedAt(deps: LoginMarkDeps, clientId: string, params: RawParams): number | undefined {
  const value = params[LOGIN_REQUESTED]
  if (typeof value !== 'string') return undefined
  const [at, mac] = value.split('.')
  const time = Number(at)
  if (!Number.isSafeInteger(time) || mac === undefined || !safeEqual(mac, loginRequestMac(deps, clientId, time))) return undefined
  return deps.clock() - time <= LOGIN_REQUEST_TTL_MS ? time : undefined
}
