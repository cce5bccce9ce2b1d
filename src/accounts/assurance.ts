/*
 * How a session was signed in: RFC 8176 authentication method references
 * (`amr`) and the authentication context class (`acr`) they reach. The acr
 * values are ordered; a request for one is met by it or any stronger.
 */

export const ACR = {
  password: 'urn:gatehouse:acr:password',
  mfa: 'urn:gatehouse:acr:mfa',
  phishingResistant: 'urn:gatehouse:acr:phishing-resistant',
} as const

export type Acr = (typeof ACR)[keyof typeof ACR]

/** Weakest first: discovery lists them in this order. */
export const ACR_VALUES: readonly Acr[] = [ACR.password, ACR.mfa, ACR.phishingResistant]

/** A password alone: every session from before two-factor sign-in. */
export const PASSWORD_ONLY = ['pwd'] as const

/** After the password, a code from an authenticator app or a recovery code (both one-time passwords). */
export const PASSWORD_AND_CODE = ['pwd', 'otp', 'mfa'] as const

/** The methods as stored (space-separated); null was the password alone. */
export function parseAmr(stored: string | null): string[] {
  return stored === null || stored === '' ? [...PASSWORD_ONLY] : stored.split(' ')
}

export function formatAmr(amr: readonly string[]): string {
  return amr.join(' ')
}

/** The class a login with these methods reaches. */
export function acrOf(amr: readonly string[]): Acr {
  if (!amr.includes('mfa')) return ACR.password
  // A passkey signs for this origin only: a look-alike site cannot relay it as it can a code.
  return usedPasskey(amr) ? ACR.phishingResistant : ACR.mfa
}

/** Whether the login used a passkey: a hardware-bound (`hwk`) or synced (`swk`) key. */
export function usedPasskey(amr: readonly string[]): boolean {
  return amr.includes('hwk') || amr.includes('swk')
}

export function isKnownAcr(value: string): value is Acr {
  return (ACR_VALUES as readonly string[]).includes(value)
}

/** Whether a login of class `has` meets the demand for `wanted`: it or anything stronger. */
export function meetsAcr(has: Acr, wanted: Acr): boolean {
  return ACR_VALUES.indexOf(has) >= ACR_VALUES.indexOf(wanted)
}

/** A login has a second factor when it reached more than the password class. */
export function hasSecondFactor(amr: readonly string[]): boolean {
  return acrOf(amr) !== ACR.password
}
