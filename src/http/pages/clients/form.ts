import { chooseIdTokenAlgorithm } from '../../../clients/clients.js'
import { isRequestInspectionHost, validateRedirectUri } from '../../../clients/redirect-uris.js'
import type { AssertionMethod } from '../../../clients/types.js'
import type { SigningAlgorithm } from '../../../keys/algorithms.js'
import { Refusal, MESSAGES } from '../../../messages.js'
import { formGuardProperties, type FormBody } from '../portal.js'

/** The body of the create and edit forms, as the schema below lets it through. */
export interface ClientFormBody extends FormBody {
  name?: string
  redirect_uri?: string[]
  post_logout_redirect_uri?: string[]
  backchannel_logout_uri?: string
  id_token_signed_response_alg?: string
  kind?: string
  auth_method?: string
  public_key?: string
}

export const clientFormBodySchema = {
  type: 'object',
  properties: {
    // No length limit here: the domain's limit is the one a person sees, next to the field
    // with what they typed (the body limit bounds the request).
    name: { type: 'string' },
    // A single field arrives as a string; Fastify's Ajv coerces it to an array of one.
    redirect_uri: { type: 'array', items: { type: 'string', maxLength: 4000 }, maxItems: 50 },
    post_logout_redirect_uri: { type: 'array', items: { type: 'string', maxLength: 4000 }, maxItems: 50 },
    backchannel_logout_uri: { type: 'string', maxLength: 4000 },
    id_token_signed_response_alg: { type: 'string', maxLength: 20 },
    kind: { type: 'string', maxLength: 20 },
    auth_method: { type: 'string', maxLength: 20 },
    public_key: { type: 'string', maxLength: 20_000 },
    ...formGuardProperties,
  },
} as const

export interface RedirectRow {
  value: string
  error: string | undefined
  /** On a request-inspection service, which the form warns about: whoever can look at its requests reads the codes sent there. */
  warning: boolean
}

/** A URL field of OpenID Connect logout: what was typed and what is wrong with it. */
export interface UrlField {
  value: string
  error: string | undefined
}

/** What the create and edit forms show: the values entered, and the messages next to each field. */
export interface ClientFormView {
  name: string
  nameError: string | undefined
  rows: RedirectRow[]
  logoutRows: UrlField[]
  backchannel: UrlField
  /** OpenID Connect Registration §2: the algorithm chosen, and those the select offers (RS256 first). */
  idTokenAlg: string
  idTokenAlgOptions: readonly SigningAlgorithm[]
  /** What kind of client the create form makes, and how it proves itself. */
  kind: ClientFormKind
  kindError: string | undefined
  authMethod: ClientFormAuthMethod
  publicKey: string
  publicKeyError: string | undefined
  /** True when the form comes back with errors, for the banner above it. */
  failed: boolean
}

/**
 * The kinds the create form offers (OAuth 2.1 §2.1): a confidential client,
 * a public one (single-page and mobile apps, PKCE required), or a service
 * client with a service account of its own. First-party and skip-consent
 * stay the operator's to set.
 */
export type ClientFormKind = 'confidential' | 'public' | 'service'
const KINDS: readonly ClientFormKind[] = ['confidential', 'public', 'service']
/** How the client proves itself: by sending its secret, by an HMAC with it (client_secret_jwt), or with a private key (private_key_jwt). */
export type ClientFormAuthMethod = 'client_secret' | AssertionMethod
const AUTH_METHODS: readonly ClientFormAuthMethod[] = ['client_secret', 'client_secret_jwt', 'private_key_jwt']

export interface ClientInput {
  name: string
  redirectUris: string[]
  postLogoutRedirectUris: string[]
  backchannelLogoutUri: string | null
  idTokenSignedResponseAlg: SigningAlgorithm
  kind: ClientFormKind
  authMethod: ClientFormAuthMethod
  /** A JWK, a JWK Set or a PEM public key, as pasted, for private_key_jwt. */
  publicKey: string
}

/** The radio groups send one of their values; anything else was not sent by the form and is refused outright. */
function choice<T extends string>(value: string | undefined, offered: readonly T[], refusal: 'client_type_unknown' | 'client_auth_method_unknown'): T {
  if (value === undefined || value === '') return offered[0]!
  const chosen = offered.find((o) => o === value)
  if (!chosen) throw new Refusal(refusal)
  return chosen
}

const filled = (uris: string[] | undefined) => (uris ?? []).filter((uri) => uri.trim() !== '')

/**
 * Blank rows are left out: emptying a field is how a person removes a URL
 * without JavaScript. The ID token algorithm comes from a select, so one not
 * offered is refused outright.
 */
export function readClientForm(body: ClientFormBody | undefined, idTokenAlgOptions: readonly SigningAlgorithm[]): ClientInput {
  const backchannel = body?.backchannel_logout_uri ?? ''
  return {
    name: body?.name ?? '',
    redirectUris: filled(body?.redirect_uri),
    postLogoutRedirectUris: filled(body?.post_logout_redirect_uri),
    backchannelLogoutUri: backchannel.trim() === '' ? null : backchannel,
    idTokenSignedResponseAlg: chooseIdTokenAlgorithm(body?.id_token_signed_response_alg, idTokenAlgOptions),
    kind: choice(body?.kind, KINDS, 'client_type_unknown'),
    authMethod: choice(body?.auth_method, AUTH_METHODS, 'client_auth_method_unknown'),
    publicKey: body?.public_key ?? '',
  }
}

/** The form, with one empty row to add a URL in (a form without JavaScript cannot add rows). */
export function clientFormView(
  input: Omit<ClientInput, 'kind' | 'authMethod' | 'publicKey'> & Partial<ClientInput>,
  idTokenAlgOptions: readonly SigningAlgorithm[],
): ClientFormView {
  return {
    kind: input.kind ?? 'confidential',
    kindError: undefined,
    authMethod: input.authMethod ?? 'client_secret',
    publicKey: input.publicKey ?? '',
    publicKeyError: undefined,
    name: input.name,
    nameError: undefined,
    rows: [...input.redirectUris.map((value) => ({ value, error: undefined, warning: isRequestInspectionHost(value) })), blankRow()],
    logoutRows: [...input.postLogoutRedirectUris.map((value) => ({ value, error: undefined })), { value: '', error: undefined }],
    backchannel: { value: input.backchannelLogoutUri ?? '', error: undefined },
    idTokenAlg: input.idTokenSignedResponseAlg,
    idTokenAlgOptions,
    failed: false,
  }
}

/** The message for each URL of a list, as the domain checks them: each valid, each once. */
function urlErrors(values: string[]): (string | undefined)[] {
  const seen = new Set<string>()
  return values.map((value) => {
    try {
      const uri = validateRedirectUri(value)
      const duplicate = seen.has(uri)
      seen.add(uri)
      return duplicate ? MESSAGES.redirect_uri_duplicate : undefined
    } catch (rowError) {
      if (!(rowError instanceof Refusal)) throw rowError
      return rowError.message
    }
  })
}

/**
 * The form after the domain refused it. The domain stops at the first
 * problem; this puts a message next to every field that has one, so a
 * person fixes them all in one go.
 */
export function refusedClientFormView(input: ClientInput, err: Refusal, idTokenAlgOptions: readonly SigningAlgorithm[]): ClientFormView {
  const redirectErrors = urlErrors(input.redirectUris)
  const rows = input.redirectUris.map((value, i): RedirectRow => ({ value, error: redirectErrors[i], warning: isRequestInspectionHost(value) }))
  const logoutErrors = urlErrors(input.postLogoutRedirectUris)
  const backchannel = {
    value: input.backchannelLogoutUri ?? '',
    error:
      input.backchannelLogoutUri === null
        ? undefined
        : (urlErrors([input.backchannelLogoutUri])[0] ?? (err.code === 'backchannel_logout_uri_not_public' ? err.message : undefined)),
  }
  const extra = blankRow()
  // The domain refused the redirect URLs as a whole (none given, or any for a service client): say so on the empty row.
  if (err.code === 'redirect_uri_required' || err.code === 'service_client_redirect_uris') extra.error = err.message
  return {
    kind: input.kind,
    kindError: err.code === 'owner_only' ? err.message : undefined,
    authMethod: input.authMethod,
    publicKey: input.publicKey,
    publicKeyError: err.code.startsWith('client_keys') ? err.message : undefined,
    name: input.name,
    nameError: err.code.startsWith('client_name') ? err.message : undefined,
    rows: [...rows, extra],
    logoutRows: [...input.postLogoutRedirectUris.map((value, i) => ({ value, error: logoutErrors[i] })), { value: '', error: undefined }],
    backchannel,
    idTokenAlg: input.idTokenSignedResponseAlg,
    idTokenAlgOptions,
    failed: true,
  }
}

function blankRow(): RedirectRow {
  return { value: '', error: undefined, warning: false }
}

/** Errors the form shows next to its fields; anything else goes to the error page. */
export function isClientFormError(err: unknown): err is Refusal {
  return (
    err instanceof Refusal &&
    (err.code.startsWith('client_name') ||
      err.code.startsWith('redirect_uri') ||
      err.code.startsWith('backchannel_logout_uri') ||
      err.code.startsWith('client_keys') ||
      err.code === 'service_client_redirect_uris' ||
      err.code === 'owner_only')
  )
}
