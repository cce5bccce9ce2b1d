/** The JWS algorithms Gatehouse signs with (GATEHOUSE_SIGNING_ALG); RS256 (RSA 2048), which every client library verifies, by default. */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number]
export const DEFAULT_SIGNING_ALGORITHM: SigningAlgorithm = 'RS256'

/**
 * OpenID Connect Core §15.1: RS256 ID tokens are mandatory to implement, and
 * Registration §2 makes RS256 the default `id_token_signed_response_alg`.
 */
export const DEFAULT_ID_TOKEN_ALGORITHM: SigningAlgorithm = 'RS256'

export function isSigningAlgorithm(value: string): value is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(value)
}

/**
 * What ID tokens may be signed with: RS256 first (Discovery 1.0 §3 requires
 * it in `id_token_signing_alg_values_supported`), then GATEHOUSE_SIGNING_ALG.
 * The key ring keeps a signing key for each.
 */
export function idTokenAlgorithms(configured: SigningAlgorithm): SigningAlgorithm[] {
  return [...new Set([DEFAULT_ID_TOKEN_ALGORITHM, configured])]
}
