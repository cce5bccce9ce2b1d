/** The JWS algorithms Gatehouse signs with (GATEHOUSE_SIGNING_ALG); RS256, as the seeds' tokens show, by default. */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number]
export const DEFAULT_SIGNING_ALGORITHM: SigningAlgorithm = 'RS256'

export function isSigningAlgorithm(value: string): value is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(value)
}
