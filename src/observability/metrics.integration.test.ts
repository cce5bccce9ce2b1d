import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { after, before, it } from 'node:test'
import { DEFAULT_LOGIN_THROTTLE } from '../config.js'
import { forEachDialect } from '../testing/dialects.js'
import { PASSWORD, REDIRECT, seedClient, seedUser, type SeededClient } from '../testing/fixtures.js'
import { HttpClient, logIn } from '../testing/http-client.js'
import { growth, scrapeMetrics, type Scrape } from '../testing/metrics.js'
import { authorize, postOAuth, redeemCode, refreshExchange, type ClientCredentials } from '../testing/oauth.js'
import { startTestServer, type TestServer } from '../testing/server.js'

const WRONG = 'not the password at all'

async function waitFor(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

await forEachDialect('Prometheus metrics on the management listener', (dialect) => {
  let server: TestServer
  let management: string
  let registered: SeededClient
  let client: ClientCredentials

  before(async () => {
    server = await startTestServer(dialect, {
      managementPort: 0,
      clientRegistration: 'open',
      // Two failures from one address lock the account there: the third attempt is the lockout, the fourth is refused.
      loginThrottle: { ...DEFAULT_LOGIN_THROTTLE, perAccountAndAddress: 2 },
      pruneInterval: 1,
    })
    assert.ok(server.managementUrl, 'the management listener listens')
    management = server.managementUrl
    const bob = await seedUser(server.ctx.db, 'bob@example.com', { team: 'Acme' })
    await seedUser(server.ctx.db, 'carol@example.com', { team: 'Carol Co' })
    registered = await seedClient(server.ctx, bob, { name: 'Example App' })
    client = { id: registered.id, secret: registered.secret }
  })
  after(() => server.stop())

  it('answers /healthz and /readyz apart from the public port, and nothing else', async () => {
    assert.notEqual(new URL(management).port, new URL(server.url).port)
    const health = await fetch(new URL('/healthz', management))
    assert.equal(health.status, 200)
    assert.deepEqual(await health.json(), { status: 'ok' })
    const ready = await fetch(new URL('/readyz', management))
    assert.equal(ready.status, 200)
    assert.deepEqual(await ready.json(), { status: 'ready' })
    assert.equal((await fetch(new URL('/', management))).status, 404)
    assert.equal((await fetch(new URL('/metrics', management), { method: 'POST' })).status, 405)
    // The public app has no /metrics: metrics stay on the operator's port.
    assert.equal((await fetch(new URL('/metrics', server.url))).status, 404)
  })

  it('counts what a scripted run of the seed flow did, exactly', { timeout: 60_000 }, async () => {
    const before: Scrape = (await scrapeMetrics(management)).series

    // Logins: one wrong password then the right one for bob; carol fails twice, is locked out on the third try, refused on the fourth.
    const browser = new HttpClient(server.url)
    assert.equal((await logIn(new HttpClient(server.url), 'bob@example.com', WRONG)).status, 401)
    assert.equal((await logIn(browser, 'bob@example.com', PASSWORD)).status, 303)
    for (let i = 0; i < 4; i++) await logIn(new HttpClient(server.url), 'carol@example.com', WRONG)

    // Consent: denied once, then approved; the approval is remembered, so the second code asks nothing.
    const params = { response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, state: 's' }
    const denied = await authorize(browser, params, 'deny')
    assert.equal(denied.searchParams.get('error'), 'access_denied')
    const code = (await authorize(browser, params)).searchParams.get('code')!
    const tokens = await redeemCode(server, client, code)

    // A refresh, then the old refresh token again: one replay, which ends the family.
    const refreshed = await refreshExchange(server, client, tokens.refresh_token)
    assert.equal(refreshed.response.status, 200)
    const replayed = await refreshExchange(server, client, tokens.refresh_token)
    assert.equal(replayed.body.error, 'invalid_grant')

    // A second family, with an ID token; its access token introspected and used, its refresh token revoked, then introspected.
    const openid = (await authorize(browser, { ...params, scope: 'openid read' })).searchParams.get('code')!
    const second = await redeemCode(server, client, openid)
    assert.ok(second.id_token)
    const active = await postOAuth(server, '/oauth/introspect', { token: second.access_token, client_id: client.id, client_secret: client.secret })
    assert.equal(active.body.active, true)
    for (let i = 0; i < 2; i++) {
      const me = await fetch(new URL('/api/v2/me', server.url), { headers: { authorization: `Bearer ${second.access_token}` } })
      assert.equal(me.status, 200)
    }
    const revoked = await postOAuth(server, '/oauth/revoke', { token: second.refresh_token, client_id: client.id, client_secret: client.secret })
    assert.equal(revoked.response.status, 200)
    const inactive = await postOAuth(server, '/oauth/introspect', { token: second.refresh_token, client_id: client.id, client_secret: client.secret })
    assert.equal(inactive.body.active, false)

    // A wrong client secret, and one dynamic registration.
    const wrongSecret = await refreshExchange(server, { id: client.id, secret: 'wrong' }, second.refresh_token)
    assert.equal(wrongSecret.body.error, 'invalid_client')
    const registration = await fetch(new URL('/oauth/register', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://registered.example/callback'], client_name: 'Registered' }),
    })
    assert.equal(registration.status, 201, await registration.clone().text())

    await waitFor(async () => (await scrapeMetrics(management)).series.has('gatehouse_janitor_pruned_rows_total{kind="sessions"}'), 'the janitor')
    const noticeLag = 'gatehouse_revocation_notice_lag_seconds_count{channel="postgres"}'
    const timedNotices = async () => ((await scrapeMetrics(management)).series.get(noticeLag) ?? 0) - (before.get(noticeLag) ?? 0)
    if (dialect === 'postgres') await waitFor(async () => (await timedNotices()) >= 1, 'a timed revocation notice')
    const { series: after, contentType } = await scrapeMetrics(management)
    assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/)
    const grew = (name: string) => growth(before, after, name)
    const expected: Record<string, number> = {
      'gatehouse_logins_total{outcome="success"}': 1,
      'gatehouse_logins_total{outcome="wrong_password"}': 3,
      'gatehouse_logins_total{outcome="locked"}': 1,
      'gatehouse_logins_total{outcome="throttled"}': 1,
      'gatehouse_logins_total{outcome="disabled"}': 0,
      'gatehouse_logins_total{outcome="second_factor"}': 0,
      'gatehouse_rate_limit_refusals_total{limit="login"}': 2,
      'gatehouse_rate_limit_refusals_total{limit="api"}': 0,
      'gatehouse_rate_limit_refusals_total{limit="registration"}': 0,
      'gatehouse_rate_limit_refusals_total{limit="client_authentication"}': 0,
      'gatehouse_consents_total{outcome="shown"}': 2,
      'gatehouse_consents_total{outcome="denied"}': 1,
      'gatehouse_consents_total{outcome="approved"}': 1,
      'gatehouse_tokens_issued_total{grant_type="authorization_code"}': 2,
      'gatehouse_tokens_issued_total{grant_type="refresh_token"}': 1,
      'gatehouse_tokens_issued_total{grant_type="password"}': 0,
      'gatehouse_token_refusals_total{error="invalid_grant"}': 1,
      'gatehouse_token_refusals_total{error="invalid_client"}': 1,
      'gatehouse_token_refusals_total{error="invalid_request"}': 0,
      'gatehouse_replays_detected_total{kind="refresh_token"}': 1,
      'gatehouse_replays_detected_total{kind="authorization_code"}': 0,
      'gatehouse_token_families_revoked_total{cause="replay"}': 1,
      'gatehouse_token_families_revoked_total{cause="revocation"}': 1,
      gatehouse_id_tokens_issued_total: 1,
      'gatehouse_introspections_total{outcome="active"}': 1,
      'gatehouse_introspections_total{outcome="inactive"}': 1,
      'gatehouse_introspections_total{outcome="refused"}': 0,
      'gatehouse_revocations_total{outcome="revoked"}': 1,
      'gatehouse_revocations_total{outcome="refused"}': 0,
      'gatehouse_client_authentication_failures_total{reason="invalid_client"}': 1,
      'gatehouse_client_authentication_failures_total{reason="throttled"}': 0,
      'gatehouse_client_registrations_total{outcome="registered"}': 1,
      'gatehouse_client_registrations_total{outcome="refused"}': 0,
      'gatehouse_client_metadata_document_fetches_total{outcome="fetched"}': 0,
      'gatehouse_client_metadata_document_fetches_total{outcome="failed"}': 0,
      // Three codes and refreshes answered, two refused (the replay, the wrong secret).
      'gatehouse_http_request_duration_seconds_count{route="/oauth/token",method="POST",status_class="2xx"}': 3,
      'gatehouse_http_request_duration_seconds_count{route="/oauth/token",method="POST",status_class="4xx"}': 2,
      'gatehouse_http_request_duration_seconds_count{route="/api/v2/me",method="GET",status_class="2xx"}': 2,
      'gatehouse_http_request_duration_seconds_count{route="/oauth/introspect",method="POST",status_class="2xx"}': 2,
      'gatehouse_http_request_duration_seconds_count{route="/oauth/revoke",method="POST",status_class="2xx"}': 1,
      'gatehouse_http_request_duration_seconds_count{route="/oauth/register",method="POST",status_class="2xx"}': 1,
    }
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((name) => [name, grew(name)])), expected)

    // The one token verified twice: first checked, then remembered.
    assert.ok(grew('gatehouse_verified_token_cache_lookups_total{result="miss"}') >= 1)
    assert.ok(grew('gatehouse_verified_token_cache_lookups_total{result="hit"}') >= 1)
    // Local revocations reach the cache of this process.
    assert.ok(grew('gatehouse_revocation_notices_total{channel="local"}') >= 1)
    assert.ok(after.has(`gatehouse_revocation_notices_total{channel="${dialect === 'postgres' ? 'postgres' : 'redis'}"}`))
    // PostgreSQL's notices say when they were written (migration 027): their lag is timed, here on one machine.
    if (dialect === 'postgres') {
      assert.ok(grew(noticeLag) >= 1)
      assert.ok(after.has('gatehouse_revocation_notice_lag_seconds_bucket{le="1",channel="postgres"}'))
    }
    // Gauges read from the database at the scrape: bob's session is the one live session.
    assert.equal(after.get('gatehouse_active_sessions'), 1)
    for (const queue of ['backchannel_logout', 'mail', 'webhooks']) {
      assert.equal(after.get(`gatehouse_queue_depth{queue="${queue}"}`), 0, queue)
      assert.equal(after.get(`gatehouse_queue_oldest_age_seconds{queue="${queue}"}`), 0, queue)
    }
    assert.equal(after.get('gatehouse_db_pool_size'), dialect === 'postgres' ? 10 : 1)
    assert.ok(after.has('gatehouse_db_pool_connections{state="busy"}'))
    assert.ok(after.has('gatehouse_db_pool_waiting'))
    assert.ok(grew('gatehouse_db_statement_duration_seconds_count{kind="select"}') > 0)
    assert.ok(grew('gatehouse_db_statement_duration_seconds_count{kind="insert"}') > 0)
    assert.ok(grew('gatehouse_db_statement_duration_seconds_count{kind="update"}') > 0)
    assert.ok(after.has('gatehouse_db_statement_duration_seconds_bucket{le="0.0001",kind="select"}'))
    assert.ok(after.has('nodejs_eventloop_lag_seconds'))
    assert.ok(after.has('process_cpu_user_seconds_total'))
    // No series names a user, a client or a token.
    const text = (await scrapeMetrics(management)).text
    for (const secret of [client.id, tokens.access_token, tokens.refresh_token, 'bob@example.com'])
      assert.ok(!text.includes(secret), 'a secret or id in the metrics')
  })

  it('puts a queued mail in the queue depth and its age', async () => {
    const now = server.ctx.clock()
    await server.ctx.db.kysely
      .insertInto('mail_outbox')
      .values({
        id: 'waiting',
        recipient: 'x@example.com',
        kind: 'test',
        body_encrypted: 'x',
        next_attempt_at: now + 3_600_000,
        give_up_at: now + 7_200_000,
        created_at: now - 30_000,
      })
      .execute()
    try {
      const { series } = await scrapeMetrics(management)
      assert.equal(series.get('gatehouse_queue_depth{queue="mail"}'), 1)
      const age = series.get('gatehouse_queue_oldest_age_seconds{queue="mail"}')!
      assert.ok(age >= 30 && age < 60, `age ${age}`)
    } finally {
      await server.ctx.db.kysely.deleteFrom('mail_outbox').where('id', '=', 'waiting').execute()
    }
  })

  it('passes promtool check metrics', { skip: promtoolMissing() }, async () => {
    const { text } = await scrapeMetrics(management)
    execFileSync('promtool', ['check', 'metrics'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] })
  })
})

/** Debian's prometheus package brings promtool; .ci/run installs it. */
function promtoolMissing(): string | false {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' })
    return false
  } catch {
    return process.env.CI ? false : 'promtool is not installed (apt-get install prometheus)'
  }
}
