import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { clientWith as client } from '../testing/clients.js'
import {
  askedOnPage,
  consentRule,
  hasConsent,
  mayRememberConsent,
  rememberedOnApproval,
  skipsConsent,
  type ConsentOnFile,
  type ConsentRequest,
} from './remembered.js'

function request(overrides: Partial<ConsentRequest> = {}): ConsentRequest {
  return { client: client(), forceConsent: false, scopes: ['profile'], resources: [], ...overrides }
}

const onFile = (scopes: string[], extra: Partial<ConsentOnFile> = {}): ConsentOnFile => ({ scopes, resources: [], implied: false, ...extra })

describe('who may have consent remembered (RFC 8252 §8.6, RFC 9700 §2.1.1)', () => {
  it('only confidential clients a person registered', () => {
    assert.equal(mayRememberConsent(client()), true)
    assert.equal(mayRememberConsent(client({ isConfidential: false })), false)
    assert.equal(mayRememberConsent(client({ kind: 'dynamic' })), false)
    assert.equal(mayRememberConsent(client({ kind: 'metadata_document' })), false)
  })

  it('only confidential first-party clients the operator marked skip the page', () => {
    assert.equal(skipsConsent(client({ isFirstParty: true, skipConsent: true })), true)
    assert.equal(skipsConsent(client({ isFirstParty: true })), false)
    assert.equal(skipsConsent(client({ skipConsent: true })), false)
    assert.equal(skipsConsent(client({ isFirstParty: true, skipConsent: true, isConfidential: false })), false)
  })

  it('prompt=consent comes before everything, then who may be remembered, then skipping', () => {
    const skipping = client({ isFirstParty: true, skipConsent: true })
    assert.equal(consentRule(request({ client: skipping, forceConsent: true })), 'prompt-consent')
    assert.equal(consentRule(request({ client: client({ isConfidential: false }) })), 'always-asked')
    assert.equal(consentRule(request({ client: skipping })), 'skips-consent')
    assert.equal(consentRule(request()), 'on-file')
  })
})

describe('whether consent is remembered for a request', () => {
  it('an approval of the same or more scopes covers the request', () => {
    assert.equal(hasConsent(request({ scopes: ['profile'] }), onFile(['profile', 'email'])), true)
    assert.equal(hasConsent(request({ scopes: ['profile', 'email'] }), onFile(['profile'])), false)
  })

  it('an approval of no scopes (all permissions) covers any request; one of some scopes does not cover a request for none', () => {
    assert.equal(hasConsent(request({ scopes: ['profile', 'email'] }), onFile([])), true)
    assert.equal(hasConsent(request({ scopes: [] }), onFile(['profile'])), false)
  })

  it('an approval only implied by a client that skipped the page does not count once the client no longer skips it', () => {
    assert.equal(hasConsent(request(), onFile(['profile'], { implied: true })), false)
  })

  it('every resource requested must have been approved (RFC 8707)', () => {
    const resources = [{ uri: 'https://a.example' }, { uri: 'https://b.example' }]
    assert.equal(hasConsent(request({ resources }), onFile(['profile'], { resources: ['https://a.example'] })), false)
    assert.equal(hasConsent(request({ resources }), onFile(['profile'], { resources: ['https://b.example', 'https://a.example'] })), true)
  })

  it('nothing on file is no consent; a client that may not be remembered is never covered', () => {
    assert.equal(hasConsent(request(), undefined), false)
    assert.equal(hasConsent(request({ client: client({ isConfidential: false }) }), onFile([])), false)
  })
})

describe('what is remembered on approval', () => {
  it('the union of the scopes approved before and now, sorted', () => {
    assert.deepEqual(rememberedOnApproval(onFile(['teams:read']), request({ scopes: ['profile', 'email'] }), true).scopes, ['email', 'profile', 'teams:read'])
    assert.deepEqual(rememberedOnApproval(undefined, request({ scopes: ['profile'] }), true).scopes, ['profile'])
  })

  it('an approval of no scopes, before or now, stays all of them', () => {
    assert.deepEqual(rememberedOnApproval(onFile([]), request({ scopes: ['profile'] }), true).scopes, [])
    assert.deepEqual(rememberedOnApproval(onFile(['profile']), request({ scopes: [] }), true).scopes, [])
  })

  it('the union of the resources approved before and now', () => {
    const before = onFile(['profile'], { resources: ['https://a.example'] })
    const now = request({ resources: [{ uri: 'https://b.example' }, { uri: 'https://a.example' }] })
    assert.deepEqual(rememberedOnApproval(before, now, true).resources, ['https://a.example', 'https://b.example'])
  })

  it('implied only when a skipping client signed the user in without the page, and nothing the user decided is on file', () => {
    const skipping = request({ client: client({ isFirstParty: true, skipConsent: true }) })
    assert.equal(rememberedOnApproval(undefined, skipping, false).implied, true)
    assert.equal(rememberedOnApproval(onFile(['profile'], { implied: true }), skipping, false).implied, true)
    assert.equal(rememberedOnApproval(onFile(['profile']), skipping, false).implied, false)
    assert.equal(rememberedOnApproval(undefined, skipping, true).implied, false)
    assert.equal(rememberedOnApproval(undefined, request(), false).implied, false)
  })
})

describe('what the consent page asks for when the client comes back for more (incremental consent)', () => {
  it('only the scopes not approved before are new; those approved before are listed apart', () => {
    const asked = askedOnPage(request({ scopes: ['read', 'write'] }), onFile(['read', 'profile']))
    assert.deepEqual(asked.scopes, { new: ['write'], approved: ['read'] })
  })

  it('everything is new when nothing is on file, or only an approval the user never saw', () => {
    const scopes = ['read', 'write']
    assert.deepEqual(askedOnPage(request({ scopes }), undefined).scopes, { new: scopes, approved: [] })
    assert.deepEqual(askedOnPage(request({ scopes }), onFile(['read'], { implied: true })).scopes, { new: scopes, approved: [] })
  })

  it('an approval of no scopes (all permissions) leaves nothing new; a request for all of them after some is new', () => {
    assert.deepEqual(askedOnPage(request({ scopes: ['write'] }), onFile([])).scopes, { new: [], approved: 'all' })
    assert.deepEqual(askedOnPage(request({ scopes: [] }), onFile(['read'])).scopes, { new: 'all', approved: [] })
    assert.deepEqual(askedOnPage(request({ scopes: [] }), undefined).scopes, { new: 'all', approved: [] })
  })

  it('resources are split the same way (RFC 8707)', () => {
    const resources = [{ uri: 'https://a.example' }, { uri: 'https://b.example' }]
    const asked = askedOnPage(request({ resources }), onFile(['profile'], { resources: ['https://a.example'] }))
    assert.deepEqual(asked.resources, { new: ['https://b.example'], approved: ['https://a.example'] })
  })
})
