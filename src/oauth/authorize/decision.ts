import { ACR, meetsAcr, type Acr } from '../../accounts/assurance.js'
import { isSelfRegistered, type Client } from '../../clients/types.js'
import { consentRule, hasConsent, type ConsentOnFile } from '../../consent/remembered.js'
import { MESSAGES } from '../../messages.js'
import { AccessDenied, ConsentRequired, InteractionRequired, LoginRequired, type OAuthError } from '../../protocol/errors.js'
import type { AuthorizationRequest } from './request.js'

/** The user signed in, as far as the decision needs them. */
export interface SignedIn {
  userId: number
  /** Epoch ms of the session's login. */
  authenticatedAt: number
  /** The class the session's login reached. */
  acr: Acr
  /** The team the tokens would act in; undefined when none is chosen. */
  teamId: number | undefined
  /** That team requires two-factor sign-in. */
  teamRequiresTwoFactor: boolean
}

/** Everything besides the request that the answer depends on. */
export interface LoginState {
  signedIn: SignedIn | undefined
  /** When the request asked for the login it came back with (the signed `login_requested` mark). */
  loginRequestedAt: number | undefined
  /** The user the request's id_token_hint names, if it is one of our ID tokens; only prompt=none reads it. */
  hintedUserId: number | undefined
  /** The approval on file for the user, client and team, when the client's consent rule depends on it. */
  consentOnFile: ConsentOnFile | undefined
  now: number
}

/*
 * The authorization request, from the integrator's redirect to the answer:
 *
 *   GET /oauth/authorize ──(client_id / redirect_uri bad)──▶ error page, never a redirect
 *        │ ──(request / request_uri / other parameter bad)──▶ response: error, state, iss
 *        │     (a self-registered client, user not signed in: error page instead)
 *        ▼
 *   prompt=none? ──▶ no page may be shown: a code, or login_required /
 *        │           consent_required / interaction_required (login_required
 *        │           of a self-registered client: error page instead)
 *        ▼
 *   logged in, recently enough (max_age), not asked to log in again (prompt=login)?
 *        │ ──no──▶ /login (login_hint fills the e-mail) ──▶ back to the same GET
 *        ▼
 *   consent on file for user + client + team covering the scopes (only for
 *   confidential clients a person registered), or a first-party client that
 *   skips it? ──yes──▶ response: code, state, iss
 *        ▼ no (or prompt=consent, or a public or self-registered client: always asked)
 *   consent page (request kept server-side, see consent/forms.ts)
 *        ├─POST approve, same session and parameters──▶ consent recorded ──▶ response: code, state, iss
 *        ├─POST deny──────────────────────────────────▶ response: error=access_denied, state, iss
 *        └─POST changed, replayed, expired────────────▶ 400 page, no code
 *
 * The response goes by redirect (response_mode=query) or by an
 * auto-submitted form (response_mode=form_post).
 */
export type Decision =
  /** To the login page; for any reason but `signed-out`, marked as a login the request asked for. */
  | { do: 'login'; reason: 'signed-out' | StaleLogin }
  /** Nothing can be approved until the user chooses a team: a page, not an answer to the client. */
  | { do: 'no-team' }
  /** The login does not reach the class the client or the team asks for: the second step, then back. */
  | { do: 'step-up' }
  | { do: 'consent'; reason: 'prompt-consent' | 'always-asked' | 'not-on-file' | 'team-changed' }
  | { do: 'code'; reason: 'skips-consent' | 'on-file' | 'approved' }
  /** An error answer to the client. */
  | { do: 'error'; error: OAuthError }
  /** An error the client may not be sent by redirect (see errorAnswer): shown on a page. */
  | { do: 'error-page'; error: OAuthError }

type StaleLogin = 'prompt-login' | 'max-age'

/**
 * RFC 9700 §4.11.2: the browser is sent to a redirect URI automatically only
 * when Gatehouse trusts it. Anyone can register a client for themselves
 * (RFC 7591) or name one by a metadata document, with any redirect URI; if
 * its errors went back by redirect before the user signed in, a link to
 * Gatehouse would bounce its victims straight to that URI (a phishing page)
 * under Gatehouse's name. Until the user has signed in, such a client's
 * errors are shown on a page. Clients a person registered keep the redirect.
 */
export function errorAnswer(client: Client, signedIn: boolean, error: OAuthError): Decision {
  return signedIn || !isSelfRegistered(client) ? { do: 'error', error } : { do: 'error-page', error }
}

/**
 * Why the session's login is not recent enough for the request, if it is
 * not. `prompt=login` and `max_age=0` need a login made after the request
 * sent the user to log in (`loginRequestedAt`); `max_age=N` one made in the
 * last N seconds (OpenID Connect Core §3.1.2.1).
 */
function staleLogin(request: AuthorizationRequest, authenticatedAt: number, now: number, loginRequestedAt: number | undefined): StaleLogin | undefined {
  if (loginRequestedAt !== undefined && authenticatedAt >= loginRequestedAt) return undefined
  if (request.forceLogin) return 'prompt-login'
  return request.maxAge === undefined || now - authenticatedAt <= request.maxAge * 1000 ? undefined : 'max-age'
}

/**
 * Whether the session's login is strong enough: one of the classes the
 * client asked for (any of them), and a second factor when the team requires
 * it (OpenID Connect Core §3.1.2.1: never a lower class, silently).
 */
function assuranceMet(request: AuthorizationRequest, signedIn: SignedIn): boolean {
  if (signedIn.teamRequiresTwoFactor && !meetsAcr(signedIn.acr, ACR.mfa)) return false
  return request.acrValues.length === 0 || request.acrValues.some((wanted) => meetsAcr(signedIn.acr, wanted))
}

function consentDecision(request: AuthorizationRequest, onFile: ConsentOnFile | undefined): Decision {
  const rule = consentRule(request)
  switch (rule) {
    case 'skips-consent':
      return { do: 'code', reason: rule }
    case 'on-file':
      return hasConsent(request, onFile) ? { do: 'code', reason: 'on-file' } : { do: 'consent', reason: 'not-on-file' }
    default:
      return { do: 'consent', reason: rule }
  }
}

/** OpenID Connect Core §3.1.2.6: with prompt=none, every reason a page would be shown is an error instead. */
function decideWithoutPrompt(request: AuthorizationRequest, state: LoginState): Decision {
  const { signedIn } = state
  if (!signedIn) return errorAnswer(request.client, false, new LoginRequired())
  if (request.idTokenHint !== undefined && state.hintedUserId !== signedIn.userId)
    return { do: 'error', error: new LoginRequired('The user signed in is not the one the id_token_hint names.') }
  // No login page was shown, so no login the request asked for can count.
  if (staleLogin(request, signedIn.authenticatedAt, state.now, undefined))
    return { do: 'error', error: new LoginRequired('The login is older than max_age allows.') }
  if (signedIn.teamId === undefined) return { do: 'error', error: new InteractionRequired(MESSAGES.no_active_team) }
  if (!assuranceMet(request, signedIn)) return { do: 'error', error: new LoginRequired('The login does not reach the authentication class asked for.') }
  const decision = consentDecision(request, state.consentOnFile)
  return decision.do === 'consent' ? { do: 'error', error: new ConsentRequired() } : decision
}

/** What to do with an authorization request (GET, or POST turned into GET). */
export function decideAuthorization(request: AuthorizationRequest, state: LoginState): Decision {
  if (request.noPrompt) return decideWithoutPrompt(request, state)
  const { signedIn } = state
  if (!signedIn) return { do: 'login', reason: 'signed-out' }
  const stale = staleLogin(request, signedIn.authenticatedAt, state.now, state.loginRequestedAt)
  if (stale) return { do: 'login', reason: stale }
  if (signedIn.teamId === undefined) return { do: 'no-team' }
  if (!assuranceMet(request, signedIn)) return { do: 'step-up' }
  return consentDecision(request, state.consentOnFile)
}

/** What to do with the decision posted from the consent page, once the form is known to be the one shown to this session. */
export function decideOnConsentForm(
  request: AuthorizationRequest,
  state: Pick<LoginState, 'loginRequestedAt' | 'now'> & { signedIn: SignedIn },
  form: { teamId: number; approved: boolean },
): Decision {
  const { signedIn } = state
  if (signedIn.teamId === undefined) return { do: 'no-team' }
  // The page was shown after a fresh enough login; a form posted without one does not stand in for it.
  const stale = staleLogin(request, signedIn.authenticatedAt, state.now, state.loginRequestedAt)
  if (stale) return { do: 'login', reason: stale }
  if (!assuranceMet(request, signedIn)) return { do: 'step-up' }
  // The page named one team; if another became active since (another tab), ask again for that one.
  if (signedIn.teamId !== form.teamId) return { do: 'consent', reason: 'team-changed' }
  if (!form.approved) return { do: 'error', error: new AccessDenied() }
  return { do: 'code', reason: 'approved' }
}
