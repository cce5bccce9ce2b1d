import { randomUUID } from 'node:crypto'
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server'
import { hmac, randomSecret } from '../crypto/random.js'
import {
  findPasskeyByCredentialId,
  insertPasskeyFactor,
  insertWebauthnChallenge,
  listPasskeysOfUser,
  takeWebauthnChallenge,
  usePasskey,
} from '../db/passkeys.js'
import { findUserById } from '../db/users.js'
import { factorAddedMail } from '../mail/templates.js'
import { Refusal } from '../messages.js'
import { recordAccountEvent } from './account-activity.js'
import { hasFactor, issueRecoveryCodes, type FactorDeps } from './factors.js'
import type { User } from './types.js'

/**
 * The WebAuthn library is loaded by the first passkey ceremony: with its
 * ASN.1 and certificate stack it is the largest part of a cold start, and
 * most processes never see a passkey.
 */
const webauthn = () => import('@simplewebauthn/server')

export interface PasskeyDeps extends FactorDeps {
  keys: FactorDeps['keys'] & { csrf: Buffer }
}

/** Long enough to touch a key or unlock a phone, short enough that a challenge lying about is worth little. */
export const CHALLENGE_TTL_MS = 3 * 60 * 1000

/**
 * What a challenge is for: adding a passkey (a session), the second step
 * after a password, and a login with a passkey alone (the login form).
 */
export type ChallengePurpose = 'register' | 'second-step' | 'passwordless'

const MAX_NAME = 100

/** The relying party is Gatehouse's issuer: its host is the RP id, its origin the only origin answers may come from. */
function relyingParty(deps: Pick<PasskeyDeps, 'config'>): { id: string; origin: string } {
  const issuer = new URL(deps.config.issuer)
  return { id: issuer.hostname, origin: issuer.origin }
}

/** The challenge is bound to the session or login form it was handed to: `owner` is its id, kept only as a keyed hash. */
function bindingOf(deps: PasskeyDeps, owner: string): string {
  return hmac(deps.keys.csrf, `webauthn:${owner}`)
}

async function keepChallenge(deps: PasskeyDeps, purpose: ChallengePurpose, owner: string, userId: number | null, challenge: string): Promise<string> {
  const id = randomSecret(16)
  const now = deps.clock()
  await insertWebauthnChallenge(deps.db.kysely, { id, purpose, binding: bindingOf(deps, owner), userId, challenge, expiresAt: now + CHALLENGE_TTL_MS, now })
  return id
}

/** The challenge answered, taken once; refused when unknown, used, someone else's, or expired. */
async function takeChallenge(
  deps: PasskeyDeps,
  purpose: ChallengePurpose,
  owner: string,
  challengeId: string,
): Promise<{ userId: number | null; challenge: string }> {
  const taken = await takeWebauthnChallenge(deps.db.kysely, challengeId, purpose, bindingOf(deps, owner))
  if (!taken) throw new Refusal('passkey_challenge_unknown')
  if (taken.expiresAt < deps.clock()) throw new Refusal('passkey_challenge_expired')
  return taken
}

function transportsOf(stored: string[]): AuthenticatorTransportFuture[] {
  return stored as AuthenticatorTransportFuture[]
}

export interface PasskeyOptions<T> {
  challengeId: string
  options: T
}

/** Options to create a discoverable passkey for the user, one the browser does not already hold. */
export async function startPasskeyRegistration(
  deps: PasskeyDeps,
  user: User,
  sessionId: string,
): Promise<PasskeyOptions<PublicKeyCredentialCreationOptionsJSON>> {
  const existing = await listPasskeysOfUser(deps.db.kysely, user.id)
  const rp = relyingParty(deps)
  const { generateRegistrationOptions } = await webauthn()
  const options = await generateRegistrationOptions({
    rpName: 'Gatehouse',
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.name,
    // A stable handle that reveals nothing: the same user gets the same one on every passkey.
    userID: new TextEncoder().encode(hmac(deps.keys.csrf, `webauthn-user:${user.id}`).slice(0, 32)),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: transportsOf(p.transports) })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    timeout: CHALLENGE_TTL_MS - 30_000,
  })
  return { challengeId: await keepChallenge(deps, 'register', sessionId, user.id, options.challenge), options }
}

function parsedResponse<T>(raw: unknown): T {
  if (typeof raw !== 'object' || raw === null || typeof (raw as { id?: unknown }).id !== 'string') throw new Refusal('passkey_response_invalid')
  return raw as T
}

/**
 * Adds the passkey the browser created. With the user's first factor come the
 * recovery codes, returned to be shown once.
 */
export async function finishPasskeyRegistration(
  deps: PasskeyDeps,
  user: User,
  sessionId: string,
  input: { challengeId: string; name: string; response: unknown },
  address: string,
): Promise<{ recoveryCodes: string[] | undefined }> {
  const name = input.name.trim()
  if (name === '' || name.length > MAX_NAME) throw new Refusal('passkey_name_missing')
  const { challenge } = await takeChallenge(deps, 'register', sessionId, input.challengeId)
  const rp = relyingParty(deps)
  const { verifyRegistrationResponse } = await webauthn()
  let verified
  try {
    verified = await verifyRegistrationResponse({
      response: parsedResponse<RegistrationResponseJSON>(input.response),
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    })
  } catch (err) {
    if (err instanceof Refusal) throw err
    throw new Refusal('passkey_response_invalid')
  }
  if (!verified.verified) throw new Refusal('passkey_response_invalid')
  const { credential } = verified.registrationInfo
  if (await findPasskeyByCredentialId(deps.db.kysely, credential.id)) throw new Refusal('passkey_already_added', 409)
  const first = !(await hasFactor(deps, user.id))
  await insertPasskeyFactor(deps.db.kysely, {
    id: randomUUID(),
    userId: user.id,
    name,
    credentialId: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    signCount: credential.counter,
    transports: credential.transports ?? [],
    now: deps.clock(),
  })
  await recordAccountEvent(deps, 'factor.added', user.id, `Passkey "${name}"`, address)
  if (deps.mail.canSend) {
    await deps.mail.queue({
      to: user.email,
      kind: 'factor_added',
      userId: user.id,
      ...factorAddedMail(deps.mail.productName, user.name, `The passkey "${name}"`, deps.config.issuer),
    })
  }
  return { recoveryCodes: first ? await issueRecoveryCodes(deps, user, address) : undefined }
}

/**
 * Options to sign in with a passkey: for `second-step` one of the user's
 * (whose password was right); for `passwordless` any discoverable one.
 */
export async function startPasskeyLogin(
  deps: PasskeyDeps,
  purpose: 'second-step' | 'passwordless',
  formId: string,
  user: User | undefined,
): Promise<PasskeyOptions<PublicKeyCredentialRequestOptionsJSON>> {
  const passkeys = user ? await listPasskeysOfUser(deps.db.kysely, user.id) : []
  if (purpose === 'second-step' && passkeys.length === 0) throw new Refusal('passkey_none')
  const { generateAuthenticationOptions } = await webauthn()
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(deps).id,
    allowCredentials: passkeys.map((p) => ({ id: p.credentialId, transports: transportsOf(p.transports) })),
    userVerification: 'preferred',
    timeout: CHALLENGE_TTL_MS - 30_000,
  })
  return { challengeId: await keepChallenge(deps, purpose, formId, user?.id ?? null, options.challenge), options }
}

/**
 * Checks a passkey's answer to a login challenge. Returns the user and the
 * login's methods (RFC 8176): `hwk` for a passkey bound to one device, `swk`
 * for one synced between devices; `mfa` after the password, or alone when
 * the authenticator verified the user (PIN or biometrics) as well.
 */
export async function finishPasskeyLogin(
  deps: PasskeyDeps,
  purpose: 'second-step' | 'passwordless',
  formId: string,
  input: { challengeId: string; response: unknown },
  address: string,
): Promise<{ user: User; amr: string[] }> {
  const taken = await takeChallenge(deps, purpose, formId, input.challengeId)
  const response = parsedResponse<AuthenticationResponseJSON>(input.response)
  const passkey = await findPasskeyByCredentialId(deps.db.kysely, response.id)
  if (!passkey) throw new Refusal('passkey_unknown', 401)
  if (taken.userId !== null && passkey.userId !== taken.userId) {
    await recordAccountEvent(deps, 'login.second_factor_failed', taken.userId, 'a passkey of another account', address)
    throw new Refusal('passkey_of_another_user', 401)
  }
  const rp = relyingParty(deps)
  const { verifyAuthenticationResponse } = await webauthn()
  let verified
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: taken.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      // The counter is checked below, so that a counter that went backwards gets its own answer.
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: 0,
        transports: transportsOf(passkey.transports),
      },
      requireUserVerification: false,
    })
  } catch {
    throw new Refusal('passkey_response_invalid', 401)
  }
  if (!verified.verified) throw new Refusal('passkey_response_invalid', 401)
  const { newCounter, userVerified, credentialDeviceType } = verified.authenticationInfo
  // W3C WebAuthn §6.1.1: a counter not above the last one seen means a cloned authenticator; 0 both times means one that keeps none.
  const backwards = (newCounter > 0 || passkey.signCount > 0) && newCounter <= passkey.signCount
  if (backwards || !(await usePasskey(deps.db.kysely, passkey.id, passkey.signCount, newCounter, deps.clock()))) {
    await recordAccountEvent(deps, 'login.second_factor_failed', passkey.userId, 'a passkey whose counter went backwards', address)
    throw new Refusal('passkey_counter_backwards', 401)
  }
  const user = await findUserById(deps.db.kysely, passkey.userId)
  if (!user || user.isDisabled) throw new Refusal('passkey_unknown', 401)
  const method = credentialDeviceType === 'singleDevice' ? 'hwk' : 'swk'
  if (purpose === 'second-step') return { user, amr: ['pwd', method, 'mfa'] }
  return { user, amr: userVerified ? [method, 'user', 'mfa'] : [method, 'user'] }
}
