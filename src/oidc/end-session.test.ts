import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClientKind } from '../clients/types.js'
import { followsPostLogoutTarget, logoutClientId, postLogoutRedirect, postLogoutTarget } from './end-session.js'

const REGISTERED = 'https://app.example/logged-out?from=gatehouse'
const app = { postLogoutRedirectUris: [REGISTERED] }
const hint = { userId: 7, clientId: 'app', sid: undefined }

describe('where the browser goes after logout (RP-Initiated Logout 1.0 §2–§3)', () => {
  it('goes nowhere but the logged-out page when no post_logout_redirect_uri is given', () => {
    assert.deepEqual(postLogoutTarget(app, undefined), { target: undefined })
    assert.deepEqual(postLogoutTarget(undefined, undefined), { target: undefined })
  })

  it('goes to a URI the client registered, exactly as registered', () => {
    assert.deepEqual(postLogoutTarget(app, REGISTERED), { target: REGISTERED })
  })

  it('refuses any other URI, however close, rather than redirect to it (no open redirector)', () => {
    for (const uri of [
      'https://evil.example/',
      'https://app.example/logged-out',
      'https://app.example/logged-out?from=gatehouse&x=1',
      'https://APP.example/logged-out?from=gatehouse',
      'https://app.example/logged-out/?from=gatehouse',
      'http://app.example/logged-out?from=gatehouse',
    ]) {
      assert.ok('refused' in postLogoutTarget(app, uri), uri)
    }
  })

  it('refuses a URI when no client is known to have registered it', () => {
    assert.ok('refused' in postLogoutTarget(undefined, REGISTERED))
  })

  it('takes the client from the hint, and refuses a client_id naming another', () => {
    assert.deepEqual(logoutClientId(hint, undefined), { clientId: 'app' })
    assert.deepEqual(logoutClientId(hint, 'app'), { clientId: 'app' })
    assert.deepEqual(logoutClientId(undefined, 'other'), { clientId: 'other' })
    assert.ok('refused' in logoutClientId(hint, 'other'))
  })

  it('sends the state back, keeping the registered query string', () => {
    assert.equal(postLogoutRedirect(REGISTERED, 'a b'), 'https://app.example/logged-out?from=gatehouse&state=a+b')
    assert.equal(postLogoutRedirect(REGISTERED, undefined), REGISTERED)
  })
})

describe('no open redirector for unverified clients after logout (RFC 9700 §4.11.2)', () => {
  const ofKind = (kind: ClientKind) => ({ kind })

  it('only offers a link to the URI of a self-registered or metadata-document client when no id_token_hint shows the user signed in to it', () => {
    assert.equal(followsPostLogoutTarget(ofKind('dynamic'), undefined), false)
    assert.equal(followsPostLogoutTarget(ofKind('metadata_document'), undefined), false)
  })

  it('follows it with an id_token_hint issued to the client', () => {
    assert.equal(followsPostLogoutTarget(ofKind('dynamic'), hint), true)
    assert.equal(followsPostLogoutTarget(ofKind('metadata_document'), hint), true)
  })

  it('follows the URI of a client a person registered, with or without a hint', () => {
    assert.equal(followsPostLogoutTarget(ofKind('registered'), undefined), true)
    assert.equal(followsPostLogoutTarget(ofKind('registered'), hint), true)
  })
})
