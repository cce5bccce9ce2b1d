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

/** The class a login with these methods reaches: a passkey (hwk, swk) resists phishing; two factors are mfa. */
export function acrOf(amr: readonly string[]): Acr {
  if (amr.includes('hwk') || amr.includes('swk')) return ACR.phishingResistant
  if (amr.includes('mfa')) return ACR.mfa
  return ACR.password
}

/** Whether a login of class `has` meets the demand for `wanted`; an unknown value is met by nothing. */
export function meetsAcr(has: Acr, wanted: string): boolean {
  const wantedRank = ACR_VALUES.indexOf(wanted as Acr)
  return wantedRank !== -1 && ACR_VALUES.indexOf(has) >= wantedRank
}

/** A login has a second factor when it reached more than the password class. */
export function hasSecondFactor(amr: readonly string[]): boolean {
  return acrOf(amr) !== ACR.password
}
