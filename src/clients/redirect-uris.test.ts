import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AppError } from '../messages.js'
import { isLoopbackHost, isRequestInspectionHost, matchRedirectUri, validateRedirectUri, validateRedirectUris } from './redirect-uris.js'

function refusal(value: string): string | undefined {
  try {
    validateRedirectUri(value)
    return undefined
  } catch (err) {
    assert.ok(err instanceof AppError, `${JSON.stringify(value)} threw ${String(err)}`)
    return err.code
  }
}

describe('redirect URL registration (RFC 6749 §3.1.2, RFC 8252 §7.3, RFC 9700 §2.1)', () => {
  it('accepts https URLs and stores them exactly as given, query included', () => {
    for (const uri of [
      'https://example.com/callback',
      'https://example.com/callback?tenant=1&x=%20y',
      'https://Example.COM:8443/Call/Back',
      'https://example.com',
      'https://xn--bcher-kva.example/cb',
    ]) {
      assert.equal(validateRedirectUri(uri), uri)
    }
  })

  it('accepts plain http only on a loopback address (RFC 8252 §7.3)', () => {
    for (const uri of ['http://127.0.0.1/callback', 'http://127.0.0.1:8080/callback', 'http://[::1]:8080/cb', 'http://localhost:3000/cb']) {
      assert.equal(validateRedirectUri(uri), uri)
    }
  })

  it('refuses http for any other host, including ones that merely look like loopback', () => {
    for (const uri of [
      'http://example.com/callback',
      'http://localhost.evil.example/cb',
      'http://127.0.0.1.nip.io/cb',
      'http://[::2]/cb',
      'http://10.0.0.1/cb',
      'http://0.0.0.0/cb',
    ]) {
      assert.equal(refusal(uri), 'redirect_uri_not_https', uri)
    }
  })

  it('refuses schemes other than https and http (no javascript:, data:, custom schemes)', () => {
    for (const uri of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'ftp://example.com/cb', 'com.example.app:/callback', 'file:///etc/passwd']) {
      assert.equal(refusal(uri), 'redirect_uri_not_https', uri)
    }
  })

  it('refuses a fragment, even an empty one (RFC 6749 §3.1.2)', () => {
    for (const uri of ['https://example.com/cb#frag', 'https://example.com/cb#', 'http://127.0.0.1/cb#x']) {
      assert.equal(refusal(uri), 'redirect_uri_fragment', uri)
    }
  })

  it('refuses credentials in the URL (user@host)', () => {
    for (const uri of ['https://user@example.com/cb', 'https://user:pw@example.com/cb', 'http://user@127.0.0.1/cb', 'http://localhost@evil.example/cb']) {
      assert.equal(refusal(uri), 'redirect_uri_credentials', uri)
    }
  })

  it('refuses what is not an absolute URL', () => {
    assert.equal(refusal(''), 'redirect_uri_required')
    assert.equal(refusal('   '), 'redirect_uri_required')
    for (const uri of ['/callback', 'example.com/callback', 'https://', 'https://exa mple.com/cb']) {
      assert.equal(refusal(uri), 'redirect_uri_invalid', uri)
    }
    assert.equal(refusal(`https://example.com/${'a'.repeat(2000)}`), 'redirect_uri_invalid')
  })

  it('needs at least one URL and refuses duplicates', () => {
    assert.throws(() => validateRedirectUris([]), (err: unknown) => err instanceof AppError && err.code === 'redirect_uri_required')
    assert.throws(
      () => validateRedirectUris(['https://example.com/cb', 'https://example.com/cb']),
      (err: unknown) => err instanceof AppError && err.code === 'redirect_uri_duplicate',
    )
    assert.deepEqual(validateRedirectUris(['https://example.com/a', 'http://127.0.0.1/b']), ['https://example.com/a', 'http://127.0.0.1/b'])
  })

  it('knows exactly the loopback hosts 127.0.0.1, [::1] and localhost', () => {
    for (const host of ['127.0.0.1', '[::1]', 'localhost']) assert.equal(isLoopbackHost(host), true, host)
    for (const host of ['127.0.0.2', '::1', 'localhost.', 'example.com', '']) assert.equal(isLoopbackHost(host), false, host)
  })
})

describe('redirect_uri matching (RFC 9700 §4.1.3: exact string comparison)', () => {
  const REGISTERED = ['https://app.example.com/callback']

  it('matches the registered URL itself', () => {
    assert.equal(matchRedirectUri(REGISTERED, 'https://app.example.com/callback'), 'https://app.example.com/callback')
    assert.equal(matchRedirectUri(['https://a.example/1', 'https://b.example/2'], 'https://b.example/2'), 'https://b.example/2')
  })

  const ATTACKS: Record<string, string> = {
    'other host': 'https://evil.example/callback',
    'subdomain of the host': 'https://evil.app.example.com/callback',
    'host as a prefix of another host': 'https://app.example.com.evil.example/callback',
    'path suffix': 'https://app.example.com/callback/evil',
    'path continued without a slash': 'https://app.example.com/callbackevil',
    'dot segments': 'https://app.example.com/callback/../evil',
    'added query': 'https://app.example.com/callback?next=https://evil.example',
    fragment: 'https://app.example.com/callback#evil',
    'user@host': 'https://evil@app.example.com/callback',
    'registered host as user info': 'https://app.example.com@evil.example/callback',
    'encoded path character': 'https://app.example.com/%63allback',
    'encoded slash': 'https://app.example.com%2F@evil.example/callback',
    'encoded dot in the host': 'https://app%2Eexample.com/callback',
    'encoded dot segments': 'https://app.example.com/callback/%2E%2E/evil',
    'upper-case host': 'https://APP.example.com/callback',
    'upper-case scheme': 'HTTPS://app.example.com/callback',
    'explicit default port': 'https://app.example.com:443/callback',
    'other port': 'https://app.example.com:8443/callback',
    'http for a non-loopback host': 'http://app.example.com/callback',
    'leading space': ' https://app.example.com/callback',
    'trailing space': 'https://app.example.com/callback ',
    'tab inside': 'https://app.example.com/call\tback',
    backslash: 'https://app.example.com\\callback',
    'not a URL': 'callback',
    empty: '',
  }

  for (const [name, requested] of Object.entries(ATTACKS)) {
    it(`refuses: ${name}`, () => {
      assert.equal(matchRedirectUri(REGISTERED, requested), undefined)
    })
  }

  it('accepts any port for an http loopback URL, and nothing else may differ (RFC 8252 §7.3)', () => {
    const registered = ['http://127.0.0.1/callback']
    assert.equal(matchRedirectUri(registered, 'http://127.0.0.1:51234/callback'), 'http://127.0.0.1:51234/callback')
    assert.equal(matchRedirectUri(registered, 'http://127.0.0.1/callback'), 'http://127.0.0.1/callback')
    for (const requested of [
      'http://127.0.0.1:51234/callback/x',
      'http://127.0.0.1:51234/Callback',
      'http://127.0.0.1:51234/callback?x=1',
      'http://localhost:51234/callback',
      'https://127.0.0.1:51234/callback',
      'http://evil@127.0.0.1:51234/callback',
      'http://127.0.0.1:51234@evil.example/callback',
      'http://127.0.0.1.evil.example:51234/callback',
      'http://127.0.0.1:51234/%63allback',
    ]) {
      assert.equal(matchRedirectUri(registered, requested), undefined, requested)
    }
  })

  it('accepts any port when the registered loopback URL names one, for IPv6 and localhost too', () => {
    assert.equal(matchRedirectUri(['http://[::1]:8080/cb'], 'http://[::1]:9000/cb'), 'http://[::1]:9000/cb')
    assert.equal(matchRedirectUri(['http://[::1]:8080/cb'], 'http://[::1]/cb'), 'http://[::1]/cb')
    assert.equal(matchRedirectUri(['http://localhost:3000/cb'], 'http://localhost:4000/cb'), 'http://localhost:4000/cb')
    assert.equal(matchRedirectUri(['http://localhost:3000/cb'], 'http://127.0.0.1:4000/cb'), undefined)
  })

  it('treats port 80 like any other port on loopback (RFC 8252 §7.3: "any port")', () => {
    assert.equal(matchRedirectUri(['http://127.0.0.1/callback'], 'http://127.0.0.1:80/callback'), 'http://127.0.0.1:80/callback')
    assert.equal(matchRedirectUri(['http://127.0.0.1:80/callback'], 'http://127.0.0.1:5000/callback'), 'http://127.0.0.1:5000/callback')
  })

  it('does not extend the port rule to https loopback URLs or to other hosts', () => {
    assert.equal(matchRedirectUri(['https://localhost:3000/cb'], 'https://localhost:4000/cb'), undefined)
    assert.equal(matchRedirectUri(['https://app.example.com:3000/cb'], 'https://app.example.com:4000/cb'), undefined)
  })
})

describe('request-inspection hosts (seed 001: third-party URLs warning)', () => {
  it('flags request bins and echo services, their subdomains too, in any letter case', () => {
    for (const uri of ['https://webhook.site/abc', 'https://eo1234.m.pipedream.net/', 'https://httpbin.org/anything', 'https://postman-echo.com/get', 'https://WEBHOOK.SITE/x']) {
      assert.equal(isRequestInspectionHost(uri), true, uri)
    }
  })

  it('does not flag ordinary hosts, look-alikes or what is not a URL', () => {
    for (const uri of ['https://example.com/cb', 'https://nothttpbin.org/', 'https://httpbin.org.example.com/', 'http://127.0.0.1/cb', 'not a url']) {
      assert.equal(isRequestInspectionHost(uri), false, uri)
    }
  })
})
