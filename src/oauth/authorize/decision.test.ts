import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ACR } from '../../accounts/assurance.js'
import type { Client, ClientKind } from '../../clients/types.js'
import type { ConsentOnFile } from '../../consent/remembered.js'
import { InvalidScope } from '../../protocol/errors.js'
import { decideAuthorization, decideOnConsentForm, errorAnswer, type Decision, type LoginState, type SignedIn } from './decision.js'
import type { AuthorizationRequest } from './request.js'
import { clientWith, type ClientFacts } from '../../testing/clients.js'

const NOW = 1_750_000_000_000
const MINUTE = 60 * 1000
const USER = 7
const TEAM = 3

function client(facts: ClientFacts = {}): Client {
  const registered = (facts.kind ?? 'registered') === 'registered'
  return clientWith({ ownerUserId: registered ? USER : null, teamId: registered ? TEAM : null, ...facts })
}

type Prompt = 'none' | 'login' | 'consent' | undefined

function request(overrides: Partial<AuthorizationRequest> & { prompt?: Prompt } = {}): AuthorizationRequest {
  const { prompt, ...rest } = overrides
  return {
    client: client(),
    redirectUri: 'https://app.example/cb',
    state: 'xyz',
    scopes: ['profile', 'teams:read'],
    resources: [],
    codeChallenge: undefined,
    nonce: undefined,
    maxAge: undefined,
    loginHint: undefined,
    idTokenHint: undefined,
    responseMode: 'query',
    forceConsent: prompt === 'consent',
    noPrompt: prompt === 'none',
    forceLogin: prompt === 'login',
    acrValues: [],
    ...rest,
  }
}

const COVERING: ConsentOnFile = { scopes: ['profile', 'teams:read'], resources: [], implied: false }

function state(overrides: Omit<Partial<LoginState>, 'signedIn'> & { signedIn?: Partial<SignedIn> | undefined } = {}): LoginState {
  const signedIn =
    'signedIn' in overrides && overrides.signedIn === undefined
      ? undefined
      : { userId: USER, authenticatedAt: NOW - 5 * MINUTE, acr: ACR.password, teamId: TEAM, teamRequiresTwoFactor: false, ...overrides.signedIn }
  return { loginRequestedAt: undefined, hintedUserId: undefined, consentOnFile: COVERING, now: NOW, ...overrides, signedIn }
}

/** The decision without its error object, which is compared by its code. */
function outcome(decision: Decision): string {
  if (decision.do === 'error' || decision.do === 'error-page') return `${decision.do}:${decision.error.error}`
  if (decision.do === 'no-team' || decision.do === 'step-up') return decision.do
  return `${decision.do}:${decision.reason}`
}

function decide(req: AuthorizationRequest, st: LoginState = state()): string {
  return outcome(decideAuthorization(req, st))
}

describe('the authorization decision: signing in (OpenID Connect Core §3.1.2.1)', () => {
  it('sends a user who is not signed in to log in, unmarked, and refuses prompt=none with login_required', () => {
    assert.equal(decide(request(), state({ signedIn: undefined })), 'login:signed-out')
    assert.equal(decide(request({ prompt: 'none' }), state({ signedIn: undefined })), 'error:login_required')
  })

  // max_age: absent, fresh (login 5 minutes ago, max_age 10 minutes), stale (max_age 1 minute).
  const MAX_AGES = { absent: undefined, fresh: 600, stale: 60 } as const
  const MATRIX: [Prompt, keyof typeof MAX_AGES, string][] = [
    [undefined, 'absent', 'code:on-file'],
    [undefined, 'fresh', 'code:on-file'],
    [undefined, 'stale', 'login:max-age'],
    ['login', 'absent', 'login:prompt-login'],
    ['login', 'fresh', 'login:prompt-login'],
    ['login', 'stale', 'login:prompt-login'],
    ['consent', 'absent', 'consent:prompt-consent'],
    ['consent', 'fresh', 'consent:prompt-consent'],
    ['consent', 'stale', 'login:max-age'],
    ['none', 'absent', 'code:on-file'],
    ['none', 'fresh', 'code:on-file'],
    ['none', 'stale', 'error:login_required'],
  ]
  for (const [prompt, maxAge, expected] of MATRIX) {
    it(`prompt=${prompt ?? '(absent)'}, max_age ${maxAge}, consent on file: ${expected}`, () => {
      assert.equal(decide(request({ prompt, maxAge: MAX_AGES[maxAge] })), expected)
    })
  }

  it('counts max_age to the millisecond: a login exactly max_age old is still fresh', () => {
    const at = (ms: number) => state({ signedIn: { authenticatedAt: NOW - ms } })
    assert.equal(decide(request({ maxAge: 60 }), at(60 * 1000)), 'code:on-file')
    assert.equal(decide(request({ maxAge: 60 }), at(60 * 1000 + 1)), 'login:max-age')
  })

  it('takes a login made after the request asked for it as fresh, for prompt=login and max_age=0 alike', () => {
    const loggedInAfterMark = state({ signedIn: { authenticatedAt: NOW - MINUTE }, loginRequestedAt: NOW - 2 * MINUTE })
    assert.equal(decide(request({ prompt: 'login' }), loggedInAfterMark), 'code:on-file')
    assert.equal(decide(request({ maxAge: 0 }), loggedInAfterMark), 'code:on-file')
  })

  it('takes a login made the same millisecond the request asked for it, not one a millisecond earlier', () => {
    const mark = NOW - MINUTE
    assert.equal(decide(request({ prompt: 'login' }), state({ signedIn: { authenticatedAt: mark }, loginRequestedAt: mark })), 'code:on-file')
    assert.equal(decide(request({ prompt: 'login' }), state({ signedIn: { authenticatedAt: mark - 1 }, loginRequestedAt: mark })), 'login:prompt-login')
  })

  it('does not take a login made before the request asked for it', () => {
    const loggedInBeforeMark = state({ signedIn: { authenticatedAt: NOW - 2 * MINUTE }, loginRequestedAt: NOW - MINUTE })
    assert.equal(decide(request({ prompt: 'login' }), loggedInBeforeMark), 'login:prompt-login')
    assert.equal(decide(request({ maxAge: 0 }), loggedInBeforeMark), 'login:max-age')
  })

  it('ignores a login mark under prompt=none, where no login page was shown', () => {
    const marked = state({ signedIn: { authenticatedAt: NOW - MINUTE }, loginRequestedAt: NOW - 2 * MINUTE })
    assert.equal(decide(request({ prompt: 'none', maxAge: 0 }), marked), 'error:login_required')
  })

  it('under prompt=none, answers only for the user the id_token_hint names', () => {
    const hinted = request({ prompt: 'none', idTokenHint: 'eyJ...' })
    assert.equal(decide(hinted, state({ hintedUserId: USER })), 'code:on-file')
    assert.equal(decide(hinted, state({ hintedUserId: USER + 1 })), 'error:login_required')
    assert.equal(decide(hinted, state({ hintedUserId: undefined })), 'error:login_required')
    assert.equal(decide(request({ prompt: 'none' }), state({ hintedUserId: USER + 1 })), 'code:on-file', 'no hint given, nothing to compare')
  })

  it('without a team, shows a page, or answers interaction_required under prompt=none', () => {
    const noTeam = state({ signedIn: { teamId: undefined } })
    assert.equal(decide(request(), noTeam), 'no-team')
    assert.equal(decide(request({ prompt: 'none' }), noTeam), 'error:interaction_required')
  })
})

describe('the authorization decision: consent, by client kind', () => {
  const NOTHING = undefined
  const IMPLIED: ConsentOnFile = { ...COVERING, implied: true }
  const NARROWER: ConsentOnFile = { ...COVERING, scopes: ['profile'] }
  const ALL_SCOPES: ConsentOnFile = { ...COVERING, scopes: [] }
  const ON_FILE = { covering: COVERING, nothing: NOTHING, implied: IMPLIED, narrower: NARROWER, 'all scopes': ALL_SCOPES } as const

  const CLIENTS = {
    'confidential, registered': client(),
    'confidential, first-party': client({ isFirstParty: true }),
    'public, registered': client({ isConfidential: false }),
    'confidential, registered itself (RFC 7591)': client({ kind: 'dynamic' }),
    'metadata document': client({ kind: 'metadata_document', isConfidential: false }),
    'first-party, skips consent': client({ isFirstParty: true, skipConsent: true }),
    'public first-party, marked to skip consent': client({ isConfidential: false, isFirstParty: true, skipConsent: true }),
  } as const

  const REMEMBERED = {
    covering: 'code:on-file',
    nothing: 'consent:not-on-file',
    implied: 'consent:not-on-file',
    narrower: 'consent:not-on-file',
    'all scopes': 'code:on-file',
  }
  const ALWAYS_ASKED = {
    covering: 'consent:always-asked',
    nothing: 'consent:always-asked',
    implied: 'consent:always-asked',
    narrower: 'consent:always-asked',
    'all scopes': 'consent:always-asked',
  }
  const SKIPS = {
    covering: 'code:skips-consent',
    nothing: 'code:skips-consent',
    implied: 'code:skips-consent',
    narrower: 'code:skips-consent',
    'all scopes': 'code:skips-consent',
  }
  const EXPECTED: Record<keyof typeof CLIENTS, Record<keyof typeof ON_FILE, string>> = {
    'confidential, registered': REMEMBERED,
    'confidential, first-party': REMEMBERED,
    'public, registered': ALWAYS_ASKED,
    'confidential, registered itself (RFC 7591)': ALWAYS_ASKED,
    'metadata document': ALWAYS_ASKED,
    'first-party, skips consent': SKIPS,
    'public first-party, marked to skip consent': ALWAYS_ASKED,
  }

  for (const [kind, c] of Object.entries(CLIENTS) as [keyof typeof CLIENTS, Client][]) {
    for (const [onFileName, onFile] of Object.entries(ON_FILE) as [keyof typeof ON_FILE, ConsentOnFile | undefined][]) {
      const expected = EXPECTED[kind][onFileName]
      it(`${kind}, approval on file: ${onFileName}: ${expected}; prompt=consent asks; prompt=none answers without a page`, () => {
        const st = state({ consentOnFile: onFile })
        assert.equal(decide(request({ client: c }), st), expected)
        assert.equal(decide(request({ client: c, prompt: 'consent' }), st), 'consent:prompt-consent')
        assert.equal(decide(request({ client: c, prompt: 'none' }), st), expected.startsWith('code:') ? expected : 'error:consent_required')
      })
    }
  }

  it('an approval of some scopes does not cover a request for none (all of the user’s permissions)', () => {
    assert.equal(decide(request({ scopes: [] })), 'consent:not-on-file')
  })

  it('asks again for a resource not approved before (RFC 8707)', () => {
    const billing = { uri: 'https://billing.example', name: 'Billing', scopes: [], scopeDescriptions: {}, builtIn: false }
    const withBilling = request({ resources: [billing] })
    assert.equal(decide(withBilling), 'consent:not-on-file')
    assert.equal(decide(withBilling, state({ consentOnFile: { ...COVERING, resources: [billing.uri] } })), 'code:on-file')
  })
})

describe('the decision posted from the consent page', () => {
  const signedIn: SignedIn = { userId: USER, authenticatedAt: NOW - 5 * MINUTE, acr: ACR.password, teamId: TEAM, teamRequiresTwoFactor: false }
  const posted = (
    req: AuthorizationRequest,
    form: { teamId?: number; approved?: boolean },
    st: Partial<{ signedIn: SignedIn; loginRequestedAt: number }> = {},
  ) => outcome(decideOnConsentForm(req, { signedIn, loginRequestedAt: undefined, now: NOW, ...st }, { teamId: TEAM, approved: true, ...form }))

  it('issues a code on approval, as approved on the page', () => {
    assert.equal(posted(request(), {}), 'code:approved')
  })

  it('answers access_denied to a denial', () => {
    assert.equal(posted(request(), { approved: false }), 'error:access_denied')
  })

  it('asks again when another team became active since the page was shown', () => {
    assert.equal(posted(request(), { teamId: TEAM + 1 }), 'consent:team-changed')
  })

  it('shows a page when no team is active any more', () => {
    assert.equal(posted(request(), {}, { signedIn: { ...signedIn, teamId: undefined } }), 'no-team')
  })

  it('does not let a stale login approve: prompt=login needs the login the request asked for, max_age a recent one', () => {
    assert.equal(posted(request({ prompt: 'login' }), {}), 'login:prompt-login')
    assert.equal(posted(request({ prompt: 'login' }), {}, { loginRequestedAt: NOW - 6 * MINUTE }), 'code:approved')
    assert.equal(posted(request({ maxAge: 60 }), {}), 'login:max-age')
  })
})

describe('no open redirector for unverified clients (RFC 9700 §4.11.2)', () => {
  const selfRegistered = (kind: ClientKind) => client({ kind, isConfidential: kind === 'dynamic' })

  it('shows login_required on a page, not by redirect, to a browser with no session for a self-registered or metadata-document client', () => {
    for (const kind of ['dynamic', 'metadata_document'] as const)
      assert.equal(decide(request({ client: selfRegistered(kind), prompt: 'none' }), state({ signedIn: undefined })), 'error-page:login_required', kind)
  })

  it('shows a malformed request from such a client on a page until the user has signed in; after, it goes back by redirect', () => {
    for (const kind of ['dynamic', 'metadata_document'] as const) {
      assert.equal(outcome(errorAnswer(selfRegistered(kind), false, new InvalidScope('x'))), 'error-page:invalid_scope', kind)
      assert.equal(outcome(errorAnswer(selfRegistered(kind), true, new InvalidScope('x'))), 'error:invalid_scope', kind)
    }
  })

  it('keeps the redirect for clients a person registered, signed in or not', () => {
    assert.equal(decide(request({ prompt: 'none' }), state({ signedIn: undefined })), 'error:login_required')
    assert.equal(outcome(errorAnswer(client(), false, new InvalidScope('x'))), 'error:invalid_scope')
  })
})

describe('the authorization decision: the authentication class (OpenID Connect Core §3.1.2.1 acr_values, RFC 8176)', () => {
  const mfa = { acr: ACR.mfa }

  it('steps a password-only login up when the client asks for two factors, and never issues less under prompt=none', () => {
    assert.equal(decide(request({ acrValues: [ACR.mfa] })), 'step-up')
    assert.equal(decide(request({ acrValues: [ACR.mfa], prompt: 'none' })), 'error:login_required')
    assert.equal(decide(request({ acrValues: [ACR.mfa] }), state({ signedIn: mfa })), 'code:on-file')
  })

  it('takes any one of the classes asked for, and a stronger one for a weaker', () => {
    assert.equal(decide(request({ acrValues: [ACR.mfa, ACR.password] })), 'code:on-file')
    assert.equal(decide(request({ acrValues: [ACR.password] }), state({ signedIn: mfa })), 'code:on-file')
  })

  it('steps up for a team that requires two-factor sign-in, whatever the client asks', () => {
    assert.equal(decide(request(), state({ signedIn: { teamRequiresTwoFactor: true } })), 'step-up')
    assert.equal(decide(request({ acrValues: [ACR.password] }), state({ signedIn: { teamRequiresTwoFactor: true } })), 'step-up')
    assert.equal(decide(request(), state({ signedIn: { teamRequiresTwoFactor: true, ...mfa } })), 'code:on-file')
  })

  it('asks for the login first when it is stale, then for the second step', () => {
    assert.equal(decide(request({ acrValues: [ACR.mfa], forceLogin: true })), 'login:prompt-login')
  })

  it('steps up before a consent form counts', () => {
    const st = {
      signedIn: { userId: USER, authenticatedAt: NOW, acr: ACR.password, teamId: TEAM, teamRequiresTwoFactor: false },
      loginRequestedAt: undefined,
      now: NOW,
    }
    assert.equal(outcome(decideOnConsentForm(request({ acrValues: [ACR.mfa] }), st, { teamId: TEAM, approved: true })), 'step-up')
  })
})
