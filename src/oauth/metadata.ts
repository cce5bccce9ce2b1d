import { ACR_VALUES } from '../accounts/assurance.js'
import type { Config } from '../config.js'
import { CLAIMS_SUPPORTED } from '../oidc/claims.js'
import { SCOPES } from '../protocol/scopes.js'
import { ASSERTION_SIGNING_ALGORITHMS } from './client-assertion.js'
import { GRANT_TYPES_SUPPORTED } from './token-endpoint.js'

export const ENDPOINTS = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
  jwks: '/oauth/jwks',
  userinfo: '/oauth/userinfo',
  endSession: '/oauth/logout',
  registration: '/oauth/register',
  deviceAuthorization: '/oauth/device_authorization',
} as const

/** What the metadata says beyond the configuration. */
export interface MetadataFacts {
  /** The scopes registered resources define (RFC 8707). */
  resourceScopes: string[]
  /** The algorithms of the published keys: what a token that still verifies may be signed with. */
  signingAlgorithms: string[]
  /** What ID tokens may be signed with, RS256 first. */
  idTokenSigningAlgorithms: string[]
}

/** RFC 8414 §2: authorization server metadata. */
export function authorizationServerMetadata(ctx: { config: Pick<Config, 'issuer' | 'clientRegistration'> }, facts: MetadataFacts): Record<string, unknown> {
  const issuer = ctx.config.issuer
  const confidentialMethods = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']
  return {
    issuer,
    authorization_endpoint: issuer + ENDPOINTS.authorization,
    token_endpoint: issuer + ENDPOINTS.token,
    jwks_uri: issuer + ENDPOINTS.jwks,
    revocation_endpoint: issuer + ENDPOINTS.revocation,
    introspection_endpoint: issuer + ENDPOINTS.introspection,
    device_authorization_endpoint: issuer + ENDPOINTS.deviceAuthorization,
    scopes_supported: [...new Set([...Object.keys(SCOPES), ...facts.resourceScopes])],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    grant_types_supported: GRANT_TYPES_SUPPORTED,
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: [...confidentialMethods, 'none'],
    revocation_endpoint_auth_methods_supported: [...confidentialMethods, 'none'],
    introspection_endpoint_auth_methods_supported: confidentialMethods,
    // RFC 8414 §2: the JWS algorithms client assertions (RFC 7523 §2.2) may be signed with, at each endpoint that authenticates clients.
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_SIGNING_ALGORITHMS,
    revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_SIGNING_ALGORITHMS,
    introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_SIGNING_ALGORITHMS,
    authorization_response_iss_parameter_supported: true,
    access_token_signing_alg_values_supported: facts.signingAlgorithms,
    ...(ctx.config.clientRegistration !== 'off' && { registration_endpoint: issuer + ENDPOINTS.registration }),
    client_id_metadata_document_supported: true,
  }
}

/**
 * OpenID Connect Discovery 1.0 §3: the RFC 8414 document, every shared field
 * with the same value, plus what an OpenID Provider declares.
 */
export function openIdConfiguration(ctx: { config: Pick<Config, 'issuer' | 'clientRegistration'> }, facts: MetadataFacts): Record<string, unknown> {
  const issuer = ctx.config.issuer
  return {
    ...authorizationServerMetadata(ctx, facts),
    userinfo_endpoint: issuer + ENDPOINTS.userinfo,
    end_session_endpoint: issuer + ENDPOINTS.endSession,
    subject_types_supported: ['public'],
    // Discovery 1.0 §3: RS256 must be listed; the client picks with id_token_signed_response_alg.
    id_token_signing_alg_values_supported: facts.idTokenSigningAlgorithms,
    claims_supported: CLAIMS_SUPPORTED,
    // Only the id_token member's acr is read from it (step-up); the other claims follow the scopes.
    claims_parameter_supported: true,
    acr_values_supported: ACR_VALUES,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent'],
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
  }
}
