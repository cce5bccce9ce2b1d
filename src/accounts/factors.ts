import { randomInt, randomUUID } from 'node:crypto'
import type { ActivityLog } from '../activity/recorder.js'
import type { Config } from '../config.js'
import type { Keys } from '../crypto/master-key.js'
import { hmac } from '../crypto/random.js'
import { open, seal } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import {
  countConfirmedFactors,
  countUnusedRecoveryCodes,
  deleteAllFactors,
  deleteFactorOfUser,
  deletePendingFactors,
  insertTotpFactor,
  listFactorsOfUser,
  listTotpSecrets,
  replaceRecoveryCodes,
  useRecoveryCode,
  useTotpStep,
  type FactorRow,
} from '../db/factors.js'
import { findUserByEmail } from '../db/users.js'
import type { MailQueue } from '../mail/outbox.js'
import { factorAddedMail, factorRemovedMail, factorsResetMail } from '../mail/templates.js'
import { Refusal } from '../messages.js'
import { countAgainst, forget, forgive, type AttemptWindow } from '../ratelimit/attempts.js'
import { recordAccountEvent } from './account-activity.js'
import { PASSWORD_AND_CODE } from './assurance.js'
import { enrolmentOf, matchingStep, newTotpSecret, normalizeCode } from './totp.js'
import type { User } from './types.js'

export interface FactorDeps {
  db: Db
  keys: Pick<Keys, 'encryption' | 'recoveryCode'>
  mail: MailQueue
  activity: ActivityLog
  config: Pick<Config, 'issuer' | 'loginThrottle'>
  clock: () => number
}

/** How recently the password must have been entered to add or remove a factor. */
export const REAUTHENTICATION_WINDOW_MS = 5 * 60 * 1000

export const RECOVERY_CODE_COUNT = 10
/** No 0/o, 1/l/i: a code is read off paper. 31 letters, 10 of them: about 50 bits a code. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'

const APP_NAME = 'Authenticator app'

export function factorsOf(deps: Pick<FactorDeps, 'db'>, userId: number): Promise<FactorRow[]> {
  return listFactorsOfUser(deps.db.kysely, userId)
}

export async function hasFactor(deps: Pick<FactorDeps, 'db'>, userId: number): Promise<boolean> {
  return (await countConfirmedFactors(deps.db.kysely, userId)) > 0
}

export function unusedRecoveryCodes(deps: Pick<FactorDeps, 'db'>, userId: number): Promise<number> {
  return countUnusedRecoveryCodes(deps.db.kysely, userId)
}

function recoveryCodeHash(deps: Pick<FactorDeps, 'keys'>, userId: number, code: string): string {
  return hmac(deps.keys.recoveryCode, `${userId}:${code.toLowerCase().replace(/[\s-]/g, '')}`)
}

function newRecoveryCode(): string {
  const letters = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('')
  return `${letters.slice(0, 5)}-${letters.slice(5)}`
}

/** A new set of recovery codes; the old set stops working. The codes are returned to be shown once and kept only hashed. */
export async function issueRecoveryCodes(deps: FactorDeps, user: User, address: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode)
  await replaceRecoveryCodes(
    deps.db.kysely,
    user.id,
    codes.map((code) => recoveryCodeHash(deps, user.id, code)),
    deps.clock(),
  )
  await recordAccountEvent(deps, 'recovery_codes.generated', user.id, user.email, address)
  return codes
}

export async function regenerateRecoveryCodes(deps: FactorDeps, user: User, address: string): Promise<string[]> {
  if (!(await hasFactor(deps, user.id))) throw new Refusal('recovery_codes_need_factor')
  return issueRecoveryCodes(deps, user, address)
}

export interface TotpEnrolment {
  factorId: string
  /** The secret in base32, for typing into an app that cannot scan. */
  secret: string
  qrSvg: string
}

/** Starts adding an authenticator app: a new secret, kept sealed and inactive until the app's first code. */
export async function startTotpEnrolment(deps: FactorDeps, user: User): Promise<void> {
  await deletePendingFactors(deps.db.kysely, user.id)
  await insertTotpFactor(deps.db.kysely, {
    id: randomUUID(),
    userId: user.id,
    name: APP_NAME,
    secretEncrypted: seal(deps.keys.encryption, newTotpSecret()),
    now: deps.clock(),
  })
}

/** The authenticator app being added, if one is. */
export async function pendingTotpEnrolment(deps: FactorDeps, user: User): Promise<TotpEnrolment | undefined> {
  const pending = (await listTotpSecrets(deps.db.kysely, user.id, true)).find((f) => !f.confirmed)
  if (!pending) return undefined
  const secret = open(deps.keys.encryption, pending.secretEncrypted)
  const { qrSvg } = await enrolmentOf(secret, user.email)
  return { factorId: pending.id, secret, qrSvg }
}

async function announce(deps: FactorDeps, user: User, mail: ReturnType<typeof factorAddedMail>, kind: string): Promise<void> {
  if (deps.mail.canSend) await deps.mail.queue({ to: user.email, kind, userId: user.id, ...mail })
}

/**
 * Activates the app being added with its first code. With the user's first
 * factor come the recovery codes, returned to be shown once.
 */
export async function confirmTotpEnrolment(
  deps: FactorDeps,
  user: User,
  factorId: string,
  typed: string,
  address: string,
): Promise<{ recoveryCodes: string[] | undefined }> {
  const pending = (await listTotpSecrets(deps.db.kysely, user.id, true)).find((f) => !f.confirmed && f.id === factorId)
  if (!pending) throw new Refusal('totp_enrolment_missing', 409)
  const now = deps.clock()
  const step = matchingStep(open(deps.keys.encryption, pending.secretEncrypted), normalizeCode(typed), now)
  if (step === undefined) throw new Refusal('totp_code_incorrect')
  const first = !(await hasFactor(deps, user.id))
  if (!(await useTotpStep(deps.db.kysely, factorId, step, now, true))) throw new Refusal('totp_enrolment_missing', 409)
  await recordAccountEvent(deps, 'factor.added', user.id, APP_NAME, address)
  await announce(deps, user, factorAddedMail(deps.mail.productName, user.name, 'An authenticator app', deps.config.issuer), 'factor_added')
  return { recoveryCodes: first ? await issueRecoveryCodes(deps, user, address) : undefined }
}

/** Removes a factor; with the last one go the recovery codes, which only stood in for it. */
export async function removeFactor(deps: FactorDeps, user: User, factorId: string, address: string): Promise<void> {
  const removed = await deleteFactorOfUser(deps.db.kysely, user.id, factorId)
  if (!removed || removed.confirmedAt === null) throw new Refusal('factor_not_found', 404)
  if (!(await hasFactor(deps, user.id))) await deleteAllFactors(deps.db.kysely, user.id)
  await recordAccountEvent(deps, 'factor.removed', user.id, removed.name, address)
  await announce(
    deps,
    user,
    factorRemovedMail(deps.mail.productName, user.name, removed.kind === 'totp' ? 'An authenticator app' : `The passkey "${removed.name}"`, deps.config.issuer),
    'factor_removed',
  )
}

/** `gatehouse users mfa-reset`: the user lost their factors; every one and every recovery code goes. */
export async function resetFactorsByOperator(deps: FactorDeps, email: string): Promise<{ user: User; removed: number }> {
  const user = await findUserByEmail(deps.db.kysely, email)
  if (!user) throw new Refusal('user_not_found', 404)
  const removed = await deleteAllFactors(deps.db.kysely, user.id)
  await recordAccountEvent(deps, 'factors.reset', user.id, `${user.email}, by an administrator`)
  await announce(deps, user, factorsResetMail(deps.mail.productName, user.name, deps.config.issuer), 'factors_reset')
  return { user, removed }
}

/** The second step refused for a while; `retryAfter` in seconds. */
export class SecondFactorThrottled extends Refusal {
  constructor(readonly retryAfter: number) {
    super('second_factor_throttled', 429)
  }
}

/*
 * Wrong codes are throttled as passwords are (see login.ts): per account and
 * address, and per account from every address with a far higher ceiling,
 * counted before the code is checked. Six digits fall to guessing without it.
 */
function codeLimits(deps: FactorDeps, userId: number, address: string): { key: string; policy: AttemptWindow }[] {
  const { windowSeconds, perAccountAndAddress, perAccount } = deps.config.loginThrottle
  return [
    { key: `second-factor:account-address:${userId}|${address}`, policy: { limit: perAccountAndAddress, windowSeconds } },
    { key: `second-factor:account:${userId}`, policy: { limit: perAccount, windowSeconds } },
  ]
}

/**
 * The second step of a login: a code from one of the user's authenticator
 * apps, or one of their recovery codes, each accepted once. Returns the
 * login's authentication methods (RFC 8176).
 */
export async function checkSecondFactor(deps: FactorDeps, user: User, typed: string, address: string): Promise<string[]> {
  const now = deps.clock()
  const limits = codeLimits(deps, user.id, address)
  for (const limit of limits) {
    const tally = await countAgainst(deps.db.kysely, limit.key, limit.policy, now)
    if (tally.over) throw new SecondFactorThrottled(tally.retryAfter)
  }
  const code = normalizeCode(typed)
  let reused = false
  for (const app of await listTotpSecrets(deps.db.kysely, user.id, false)) {
    const step = matchingStep(open(deps.keys.encryption, app.secretEncrypted), code, now)
    if (step === undefined) continue
    if (await useTotpStep(deps.db.kysely, app.id, step, now, false)) return succeeded(deps, limits)
    reused = true
  }
  if (!reused && code.length > 6 && (await useRecoveryCode(deps.db.kysely, user.id, recoveryCodeHash(deps, user.id, code), now))) {
    return succeeded(deps, limits)
  }
  await recordAccountEvent(deps, 'login.second_factor_failed', user.id, reused ? 'a code used before' : 'a wrong code', address)
  throw new Refusal(reused ? 'second_factor_reused' : 'second_factor_incorrect', 401)
}

async function succeeded(deps: FactorDeps, limits: { key: string }[]): Promise<string[]> {
  await forget(deps.db.kysely, limits[0]!.key)
  await forgive(deps.db.kysely, limits[1]!.key)
  return [...PASSWORD_AND_CODE]
}
