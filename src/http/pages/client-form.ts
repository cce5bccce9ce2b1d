import { isRequestInspectionHost, validateRedirectUri } from '../../clients/redirect-uris.js'
import { AppError, MESSAGES } from '../../messages.js'
import { formGuardProperties, type FormBody } from './portal.js'

/** The body of the create and edit forms, as the schema below lets it through. */
export interface ClientFormBody extends FormBody {
  name?: string
  redirect_uri?: string[]
}

export const clientFormBodySchema = {
  type: 'object',
  properties: {
    // No length limit here: the domain's limit is the one a person sees, next to the field
    // with what they typed (the body limit bounds the request).
    name: { type: 'string' },
    // A single field arrives as a string; Fastify's Ajv coerces it to an array of one.
    redirect_uri: { type: 'array', items: { type: 'string', maxLength: 4000 }, maxItems: 50 },
    ...formGuardProperties,
  },
} as const

export interface RedirectRow {
  value: string
  error: string | undefined
  /** On a request-inspection service (seed 001's warning). */
  warning: boolean
}

/** What the create and edit forms show: the values entered, and the messages next to each field. */
export interface ClientFormView {
  name: string
  nameError: string | undefined
  rows: RedirectRow[]
  /** True when the form comes back with errors, for the banner above it. */
  failed: boolean
}

export interface ClientInput {
  name: string
  redirectUris: string[]
}

/** Blank rows are left out: emptying a field is how a person removes a URL without JavaScript. */
export function readClientForm(body: ClientFormBody | undefined): ClientInput {
  return {
    name: body?.name ?? '',
    redirectUris: (body?.redirect_uri ?? []).filter((uri) => uri.trim() !== ''),
  }
}

/** The form, with one empty row to add a URL in (a form without JavaScript cannot add rows). */
export function clientFormView(input: ClientInput): ClientFormView {
  return {
    name: input.name,
    nameError: undefined,
    rows: [...input.redirectUris.map((value) => ({ value, error: undefined, warning: isRequestInspectionHost(value) })), blankRow()],
    failed: false,
  }
}

/**
 * The form after the domain refused it. The domain stops at the first
 * problem; this puts a message next to every field that has one, so a
 * person fixes them all in one go.
 */
export function refusedClientFormView(input: ClientInput, err: AppError): ClientFormView {
  const seen = new Set<string>()
  const rows = input.redirectUris.map((value): RedirectRow => {
    let error: string | undefined
    try {
      const uri = validateRedirectUri(value)
      if (seen.has(uri)) error = MESSAGES.redirect_uri_duplicate
      seen.add(uri)
    } catch (rowError) {
      if (!(rowError instanceof AppError)) throw rowError
      error = rowError.message
    }
    return { value, error, warning: isRequestInspectionHost(value) }
  })
  const extra = blankRow()
  // The domain refused the URLs as a whole (none given): say so on the empty row.
  if (err.code.startsWith('redirect_uri') && !rows.some((r) => r.error !== undefined)) extra.error = err.message
  return {
    name: input.name,
    nameError: err.code.startsWith('client_name') ? err.message : undefined,
    rows: [...rows, extra],
    failed: true,
  }
}

function blankRow(): RedirectRow {
  return { value: '', error: undefined, warning: false }
}

/** Errors the form shows next to its fields; anything else goes to the error page. */
export function isClientFormError(err: unknown): err is AppError {
  return err instanceof AppError && (err.code.startsWith('client_name') || err.code.startsWith('redirect_uri'))
}
