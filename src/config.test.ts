import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig } from './config.js'

type Env = Record<string, string | undefined>

function assertRefused(env: Env, setting: string): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `a ConfigError expected, got ${String(err)}`)
      assert.equal(err.setting, setting)
      // The command line prints the message as is: it must say which setting is wrong.
      assert.ok(err.message.startsWith(`${setting}: `), err.message)
      return true
    },
    JSON.stringify(env),
  )
}

describe('loadConfig', () => {
  it('runs with no configuration at all', () => {
    const config = loadConfig({})
    assert.equal(config.port, 3000)
    assert.equal(config.host, '127.0.0.1')
    assert.equal(config.dataDir, resolve('data'))
    assert.equal(config.databaseUrl, `sqlite:${resolve('data', 'gatehouse.sqlite')}`)
    assert.equal(config.redisUrl, undefined)
    assert.equal(config.issuer, 'http://localhost:3000')
    assert.equal(config.secret, undefined)
  })

  it('keeps the default database file in the data directory', () => {
    const config = loadConfig({ GATEHOUSE_DATA_DIR: '/srv/gatehouse' })
    assert.equal(config.dataDir, '/srv/gatehouse')
    assert.equal(config.databaseUrl, 'sqlite:/srv/gatehouse/gatehouse.sqlite')
  })

  it('derives the default issuer from the port', () => {
    const config = loadConfig({ PORT: '8080' })
    assert.equal(config.port, 8080)
    assert.equal(config.issuer, 'http://localhost:8080')
  })

  it('takes every setting from the environment', () => {
    const secret = 'x'.repeat(32)
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://gatehouse:pw@db.internal:5432/gatehouse',
      REDIS_URL: 'rediss://cache.internal:6380',
      GATEHOUSE_ISSUER: 'https://auth.example.com/gatehouse',
      GATEHOUSE_SECRET: secret,
    })
    assert.equal(config.port, 0)
    assert.equal(config.host, '0.0.0.0')
    assert.equal(config.databaseUrl, 'postgresql://gatehouse:pw@db.internal:5432/gatehouse')
    assert.equal(config.redisUrl, 'rediss://cache.internal:6380')
    assert.equal(config.issuer, 'https://auth.example.com/gatehouse')
    assert.equal(config.secret, secret)
  })

  it('strips trailing slashes from the issuer', () => {
    assert.equal(loadConfig({ GATEHOUSE_ISSUER: 'https://auth.example.com/' }).issuer, 'https://auth.example.com')
    assert.equal(loadConfig({ GATEHOUSE_ISSUER: 'https://example.com/auth//' }).issuer, 'https://example.com/auth')
  })

  it('treats empty optional settings as unset', () => {
    const config = loadConfig({ REDIS_URL: '', GATEHOUSE_SECRET: '' })
    assert.equal(config.redisUrl, undefined)
    assert.equal(config.secret, undefined)
  })

  it('reads the hosts the operator allows Gatehouse to call although internal, from GATEHOUSE_OUTBOUND_ALLOWED_HOSTS and its older name (OWASP A10:2021)', () => {
    assert.deepEqual(loadConfig({}).outboundAllowedHosts, [])
    assert.deepEqual(
      loadConfig({
        GATEHOUSE_OUTBOUND_ALLOWED_HOSTS: 'Intranet.example.com., 10.0.0.5:8443',
        GATEHOUSE_CLIENT_METADATA_ALLOWED_HOSTS: 'docs.internal,10.0.0.5:8443',
      }).outboundAllowedHosts,
      ['intranet.example.com', '10.0.0.5:8443', 'docs.internal'],
    )
    assert.throws(() => loadConfig({ GATEHOUSE_OUTBOUND_ALLOWED_HOSTS: 'https://intranet.example.com/' }), /GATEHOUSE_OUTBOUND_ALLOWED_HOSTS/)
  })

  it('refuses a port that is not a port number', () => {
    for (const PORT of ['notaport', '', '-1', '65536', '80.5', ' 80']) assertRefused({ PORT }, 'PORT')
    assert.equal(loadConfig({ PORT: '65535' }).port, 65535)
  })

  it('refuses an empty host', () => {
    assertRefused({ HOST: '' }, 'HOST')
    assertRefused({ HOST: '  ' }, 'HOST')
  })

  it('refuses a database URL it cannot use', () => {
    for (const DATABASE_URL of ['mysql://x', 'gatehouse.sqlite', 'sqlite:', 'postgres://[bad']) assertRefused({ DATABASE_URL }, 'DATABASE_URL')
  })

  it('refuses a Redis URL that is not redis:// or rediss://', () => {
    for (const REDIS_URL of ['http://cache:6379', 'not a url']) assertRefused({ REDIS_URL }, 'REDIS_URL')
  })

  it('refuses an issuer that is not a plain http(s) URL', () => {
    for (const GATEHOUSE_ISSUER of ['auth.example.com', 'ftp://auth.example.com', 'https://auth.example.com/?tenant=1', 'https://auth.example.com/#top']) {
      assertRefused({ GATEHOUSE_ISSUER }, 'GATEHOUSE_ISSUER')
    }
  })

  it('refuses a secret shorter than 32 characters', () => {
    assertRefused({ GATEHOUSE_SECRET: 'x'.repeat(31) }, 'GATEHOUSE_SECRET')
  })

  it('reads which proxies to trust for the client address', () => {
    const trust = (GATEHOUSE_TRUST_PROXY: string) => loadConfig({ GATEHOUSE_TRUST_PROXY }).trustProxy
    assert.equal(loadConfig({}).trustProxy, false)
    assert.equal(trust('true'), true)
    assert.equal(trust('false'), false)
    assert.equal(trust('2'), 2)
    assert.deepEqual(trust('10.0.0.0/8, 127.0.0.1'), ['10.0.0.0/8', '127.0.0.1'])
    assertRefused({ GATEHOUSE_TRUST_PROXY: 'everyone' }, 'GATEHOUSE_TRUST_PROXY')
  })

  it('reads the access-log mode: every request in development, a sample in production', () => {
    assert.equal(loadConfig({}).accessLog, 'all')
    assert.equal(loadConfig({ NODE_ENV: 'production' }).accessLog, 'sampled')
    assert.equal(loadConfig({ NODE_ENV: 'production', GATEHOUSE_ACCESS_LOG: 'off' }).accessLog, 'off')
    assert.equal(loadConfig({ GATEHOUSE_ACCESS_LOG: 'all' }).accessLog, 'all')
    assertRefused({ GATEHOUSE_ACCESS_LOG: 'some' }, 'GATEHOUSE_ACCESS_LOG')
  })

  it('creates the sandbox account on a first start, except in production', () => {
    assert.equal(loadConfig({}).sandboxAccount, true)
    assert.equal(loadConfig({ NODE_ENV: 'development' }).sandboxAccount, true)
    assert.equal(loadConfig({ NODE_ENV: 'production' }).sandboxAccount, false)
  })

  it('refuses token lifetimes and limits out of range', () => {
    assertRefused({ GATEHOUSE_ACCESS_TOKEN_TTL: '59' }, 'GATEHOUSE_ACCESS_TOKEN_TTL')
    assertRefused({ GATEHOUSE_REFRESH_TOKEN_TTL: 'a year' }, 'GATEHOUSE_REFRESH_TOKEN_TTL')
    assertRefused({ GATEHOUSE_RATE_LIMIT: '0' }, 'GATEHOUSE_RATE_LIMIT')
    assert.equal(loadConfig({ GATEHOUSE_ACCESS_TOKEN_TTL: '7200' }).accessTokenTtlSeconds, 7200)
  })

  it('gives ID tokens an hour by default (GATEHOUSE_ID_TOKEN_TTL)', () => {
    assert.equal(loadConfig({}).idTokenTtlSeconds, 3600)
    assert.equal(loadConfig({ GATEHOUSE_ID_TOKEN_TTL: '600' }).idTokenTtlSeconds, 600)
    assertRefused({ GATEHOUSE_ID_TOKEN_TTL: '0' }, 'GATEHOUSE_ID_TOKEN_TTL')
  })

  it('signs with RS256 unless GATEHOUSE_SIGNING_ALG names ES256 or EdDSA', () => {
    assert.equal(loadConfig({}).signingAlg, 'RS256')
    assert.equal(loadConfig({ GATEHOUSE_SIGNING_ALG: '' }).signingAlg, 'RS256')
    assert.equal(loadConfig({ GATEHOUSE_SIGNING_ALG: 'ES256' }).signingAlg, 'ES256')
    assert.equal(loadConfig({ GATEHOUSE_SIGNING_ALG: ' EdDSA ' }).signingAlg, 'EdDSA')
  })

  it('refuses a signing algorithm it does not offer, naming the ones it does', () => {
    for (const alg of ['HS256', 'es256', 'none', 'PS256', 'Ed25519']) assertRefused({ GATEHOUSE_SIGNING_ALG: alg }, 'GATEHOUSE_SIGNING_ALG')
    assert.throws(() => loadConfig({ GATEHOUSE_SIGNING_ALG: 'HS256' }), { message: 'GATEHOUSE_SIGNING_ALG: "HS256" is not one of RS256, ES256, EdDSA' })
  })

  it('opens the management listener on 127.0.0.1:9464 unless told otherwise, and never on the public port', () => {
    const defaults = loadConfig({})
    assert.equal(defaults.managementPort, 9464)
    assert.equal(defaults.managementHost, '127.0.0.1')
    assert.equal(loadConfig({ GATEHOUSE_MANAGEMENT_PORT: 'off' }).managementPort, 'off')
    assert.equal(loadConfig({ GATEHOUSE_MANAGEMENT_PORT: '0' }).managementPort, 0)
    assert.equal(loadConfig({ GATEHOUSE_MANAGEMENT_PORT: '9100', GATEHOUSE_MANAGEMENT_HOST: '10.0.0.5' }).managementHost, '10.0.0.5')
    assertRefused({ GATEHOUSE_MANAGEMENT_PORT: 'on' }, 'GATEHOUSE_MANAGEMENT_PORT')
    assertRefused({ GATEHOUSE_MANAGEMENT_PORT: '70000' }, 'GATEHOUSE_MANAGEMENT_PORT')
    assertRefused({ PORT: '9464' }, 'GATEHOUSE_MANAGEMENT_PORT')
    assert.equal(loadConfig({ PORT: '0', GATEHOUSE_MANAGEMENT_PORT: '0' }).managementPort, 0)
  })

  it('brands the pages as Gatehouse unless GATEHOUSE_PRODUCT_NAME, GATEHOUSE_LOGO_URL and GATEHOUSE_ACCENT_COLOR say otherwise', () => {
    assert.deepEqual(loadConfig({}).brand, { productName: 'Gatehouse', logo: undefined, accentColor: '#1f5fbf' })
    const branded = loadConfig({
      GATEHOUSE_PRODUCT_NAME: ' Acme ID ',
      GATEHOUSE_LOGO_URL: 'https://cdn.acme.example/logo.svg',
      GATEHOUSE_ACCENT_COLOR: '#0A7',
      GATEHOUSE_DATA_DIR: '/srv/gatehouse',
    })
    assert.deepEqual(branded.brand, { productName: 'Acme ID', logo: { url: 'https://cdn.acme.example/logo.svg' }, accentColor: '#0a7' })
    assert.deepEqual(loadConfig({ GATEHOUSE_LOGO_URL: 'logo.png', GATEHOUSE_DATA_DIR: '/srv/gatehouse' }).brand.logo, { file: '/srv/gatehouse/logo.png' })
  })

  it('refuses an accent colour that is not a CSS hex colour, and a logo outside the data directory', () => {
    for (const color of ['blue', '#12345', '#1234567', '1f5fbf', '#1f5fbg', 'red; } body { display: none'])
      assertRefused({ GATEHOUSE_ACCENT_COLOR: color }, 'GATEHOUSE_ACCENT_COLOR')
    for (const logo of ['../secret.key', '/etc/passwd.png', 'secret.key', '.hidden.png', 'javascript:alert(1)', 'dir/logo.svg'])
      assertRefused({ GATEHOUSE_LOGO_URL: logo }, 'GATEHOUSE_LOGO_URL')
    assertRefused({ GATEHOUSE_PRODUCT_NAME: 'x'.repeat(61) }, 'GATEHOUSE_PRODUCT_NAME')
  })
})
