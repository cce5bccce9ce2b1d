import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Refusal } from '../messages.js'
import {
  chooseRedirectUri,
  isLoopbackHost,
  isRegistrableRedirectUri,
  isRequestInspectionHost,
  matchRedirectUri,
  redirectUriMatchesCode,
  validateRedirectUri,
  validateRedirectUris,
} from './redirect-uris.js'

function refusal(value: string): string | undefined {
  try {
    validateRedirectUri(value)
    return undefined
  } catch (err) {
    assert.ok(err instanceof Refusal, `${JSON.stringify(value)} threw ${String(err)}`)
    return err.code
  }
}

describe('redirect URL registration (RFC 6749 §3.1.2, RFC 8252 §7.3, RFC 9700 §2.1)', () => {
  it('accepts https URLs and stores them exactly as given, query included', () => {
    for (const uri of [
      'https://example.com/callback',
      'https://example.com/callback?tenant=1&x=%20y',
      'https://example.com:8443/Call/Back',
      'https://example.com/',
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
    for (const uri of [
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'ftp://example.com/cb',
      'com.example.app:/callback',
      'file:///etc/passwd',
    ]) {
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
    for (const uri of ['/callback', 'example.com/callback', 'https://']) {
      assert.equal(refusal(uri), 'redirect_uri_invalid', uri)
    }
    assert.equal(refusal(`https://example.com/${'a'.repeat(2000)}`), 'redirect_uri_invalid')
  })

  it('refuses control characters, spaces and DEL anywhere, which parsers drop or rewrite and which break a Location header (RFC 9700 §4.1.3: exact matching needs one reading)', () => {
    const controls = ['\r\n', '\n', '\r', '\t', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', ' ']
    for (const c of controls) {
      for (const uri of [
        `https://app.example/c${c}b`,
        `https://ap${c}p.example/cb`,
        `https://app.example/cb${c}`,
        `${c}https://app.example/cb`,
        `https://app.example/cb?x=${c}`,
      ]) {
        assert.equal(refusal(uri), 'redirect_uri_unsafe_characters', JSON.stringify(uri))
      }
    }
    assert.equal(refusal('https://app.example/c\r\nSet-Cookie: x=1'), 'redirect_uri_unsafe_characters')
    assert.equal(refusal('   '), 'redirect_uri_required')
  })

  it('refuses a URL with an empty host, which the parser would fill from the path (https:///cb reads as https://cb/)', () => {
    for (const uri of ['https:///cb', 'https:cb', 'https:/cb', 'http:///127.0.0.1/cb', 'https://\\evil.example/cb']) {
      assert.equal(refusal(uri), 'redirect_uri_no_host', uri)
    }
  })

  it('refuses any URL the WHATWG URL parser would re-serialise differently, so what is compared is where the browser goes (RFC 9700 §4.1.3)', () => {
    for (const uri of [
      'https://example.com',
      'https://Example.COM/cb',
      'HTTPS://example.com/cb',
      'https://example.com:443/cb',
      'http://127.0.0.1:80/cb',
      'https://evil.example\\.app.example.com/cb',
      'https://app.example/a\\b',
      'https://app.example/a/../b',
      'https://app.example/./cb',
      'https://bücher.example/cb',
      'https://app.example/café',
      "https://app.example/cb?q='x'",
      'https://app.example/cb?q="x"',
      'https://app.example/cb?q=<x>',
      'https://app.example/\u202ecb',
      'https://0x7f.0.0.1/cb',
    ]) {
      assert.equal(refusal(uri), 'redirect_uri_not_canonical', uri)
    }
    assert.equal(isRegistrableRedirectUri('https://app.example/cb'), true)
    assert.equal(isRegistrableRedirectUri('https://app.example/c\tb'), false)
  })

  it('needs at least one URL and refuses duplicates', () => {
    assert.throws(
      () => validateRedirectUris([]),
      (err: unknown) => err instanceof Refusal && err.code === 'redirect_uri_required',
    )
    assert.throws(
      () => validateRedirectUris(['https://example.com/cb', 'https://example.com/cb']),
      (err: unknown) => err instanceof Refusal && err.code === 'redirect_uri_duplicate',
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

describe('redirect_uri choice at the authorization endpoint and the token endpoint (RFC 6749 §3.1.2.3, §4.1.3)', () => {
  it('uses the only registered URL when the request names none, and refuses when there are several or none', () => {
    assert.deepEqual(chooseRedirectUri(['https://a.example/cb'], undefined), { uri: 'https://a.example/cb' })
    assert.deepEqual(chooseRedirectUri(['https://a.example/cb', 'https://b.example/cb'], undefined), { refused: 'missing' })
    assert.deepEqual(chooseRedirectUri([], undefined), { refused: 'missing' })
    assert.deepEqual(chooseRedirectUri(['https://a.example/cb', 'https://b.example/cb'], 'https://b.example/cb'), { uri: 'https://b.example/cb' })
    assert.deepEqual(chooseRedirectUri(['https://a.example/cb'], 'https://evil.example/cb'), { refused: 'unregistered' })
    assert.deepEqual(chooseRedirectUri(['http://127.0.0.1/cb'], 'http://127.0.0.1:5000/cb'), { uri: 'http://127.0.0.1:5000/cb' })
  })

  it('never chooses a stored URL that registration would refuse today: no redirect can be formed safely to it', () => {
    for (const stored of ['https://app.example/c\r\nSet-Cookie: x=1', 'https://ap\tp.example/cb', 'https:///cb']) {
      assert.deepEqual(chooseRedirectUri([stored], stored), { refused: 'unusable' }, JSON.stringify(stored))
      assert.deepEqual(chooseRedirectUri([stored], undefined), { refused: 'unusable' }, JSON.stringify(stored))
    }
    assert.deepEqual(chooseRedirectUri(['http://127.0.0.1/c\tb'], 'http://127.0.0.1:5000/c\tb'), { refused: 'unusable' })
  })

  it('lets a token request leave out redirect_uri only when the authorization request could (one registered URL, the code issued to it)', () => {
    assert.equal(redirectUriMatchesCode(['https://a.example/cb'], undefined, 'https://a.example/cb'), true)
    assert.equal(redirectUriMatchesCode(['https://a.example/cb'], 'https://a.example/cb', 'https://a.example/cb'), true)
    assert.equal(redirectUriMatchesCode(['https://a.example/cb', 'https://b.example/cb'], undefined, 'https://a.example/cb'), false)
    assert.equal(redirectUriMatchesCode(['http://127.0.0.1/cb'], undefined, 'http://127.0.0.1:5000/cb'), false)
    assert.equal(redirectUriMatchesCode(['https://a.example/cb', 'https://b.example/cb'], 'https://b.example/cb', 'https://a.example/cb'), false)
  })
})

describe('request-inspection hosts (seed 001: third-party URLs warning)', () => {
  it('flags request bins and echo services, their subdomains too, in any letter case', () => {
    for (const uri of [
      'https://webhook.site/abc',
      'https://eo1234.m.pipedream.net/',
      'https://httpbin.org/anything',
      'https://postman-echo.com/get',
      'https://WEBHOOK.SITE/x',
    ]) {
      assert.equal(isRequestInspectionHost(uri), true, uri)
    }
  })

  it('does not flag ordinary hosts, look-alikes or what is not a URL', () => {
    for (const uri of ['https://example.com/cb', 'https://nothttpbin.org/', 'https://httpbin.org.example.com/', 'http://127.0.0.1/cb', 'not a url']) {
      assert.equal(isRequestInspectionHost(uri), false, uri)
    }
  })
})
