import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as oidc from 'openid-client'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { ACR } from '../../accounts/assurance.js'
import { MESSAGES } from '../../messages.js'
import { browserSkipReason, logIn, startBrowserAndServer, stopBrowserAndServer, withPage } from '../../testing/browser.js'
import { PASSWORD, seedClient, seedUser, type SeededUser } from '../../testing/fixtures.js'
import { startMailServer, type MailServer } from '../../testing/mail.js'
import type { TestServer } from '../../testing/server.js'

const skip = browserSkipReason()

/** A platform authenticator that keeps discoverable credentials and verifies its user, as a laptop's fingerprint reader. */
async function addAuthenticator(page: Page, context: BrowserContext): Promise<void> {
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  })
}

async function addPasskey(page: Page, base: string, name: string): Promise<void> {
  await page.goto(`${base}/account/security`)
  await page.getByLabel('Passkey name').fill(name)
  await page.getByRole('button', { name: 'Add a passkey' }).click()
  await page.waitForURL((url) => url.pathname.startsWith('/account/security/recovery-codes/') || url.searchParams.get('done') === 'passkey_added')
}

/**
 * The virtual authenticator answers the login page's passkey autofill at
 * once; without the page's script the page is the plain password form.
 */
async function withoutScript<T>(page: Page, work: () => Promise<T>): Promise<T> {
  await page.route('**/assets/portal.js', (route) => route.abort())
  try {
    return await work()
  } finally {
    await page.unroute('**/assets/portal.js')
  }
}

async function enterPassword(page: Page, base: string, email: string): Promise<void> {
  await withoutScript(page, async () => {
    await page.goto(`${base}/login`)
    await page.getByLabel('E-mail address').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await Promise.all([page.waitForURL((url) => url.pathname === '/login/code'), page.getByRole('button', { name: 'Log in' }).click()])
  })
  // The second step with the page's script, which offers the passkey.
  await page.reload()
}

async function openLoginWithoutScript(page: Page, base: string): Promise<void> {
  await withoutScript(page, () => page.goto(`${base}/login`))
}

interface Answer {
  status: number
  body: { error?: string; redirect?: string }
}

/*
 * Runs in the page: asks for a login challenge, has the authenticator answer
 * it (with `allow`, only that credential), lets the answer be changed as a
 * tampering client would, and sends it. `window.meanwhile` runs between the
 * challenge and the answer.
 */
const ANSWER_LOGIN = `async ({ purpose, alter, allow }) => {
  const container = document.querySelector('[data-passkey-login][data-purpose="' + purpose + '"]')
  const csrf = container.dataset.csrf
  const post = async (url, body) => {
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    return { status: response.status, body: await response.json() }
  }
  const started = await post('/login/passkey/options', { _csrf: csrf, purpose })
  const options = started.body.options
  if (allow) options.allowCredentials = [{ id: allow, type: 'public-key' }]
  if (window.meanwhile) await window.meanwhile()
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) })
  const response = credential.toJSON()
  // The signature's last characters changed: it no longer signs what the authenticator saw.
  if (alter === 'signature') response.response.signature = response.response.signature.slice(0, -4) + (response.response.signature.endsWith('AAAA') ? 'BBBB' : 'AAAA')
  return post('/login/passkey', { _csrf: csrf, purpose, challenge_id: started.body.challengeId, response, return_to: '/' })
}`

async function answerLogin(page: Page, purpose: 'passwordless' | 'second-step', options: { alter?: string; allow?: string } = {}): Promise<Answer> {
  return page.evaluate(`(${ANSWER_LOGIN})(${JSON.stringify({ purpose, ...options })})`) as Promise<Answer>
}

describe('passkeys in a browser with a virtual authenticator', { skip: skip ?? false, timeout: 300_000 }, () => {
  let browser: Browser
  let server: TestServer
  let mail: MailServer
  let ada: SeededUser
  let grace: SeededUser
  // WebAuthn needs a domain as relying-party id, not an IP address: the browser and the issuer use localhost.
  let base: string
  let offset = 0
  const clock = () => Date.now() + offset

  before(
    async () => {
      mail = await startMailServer()
      ;[browser, server] = await startBrowserAndServer({ smtpUrl: mail.url }, clock)
      base = server.url.replace('127.0.0.1', 'localhost')
      server.ctx.config.issuer = base
      ada = await seedUser(server.ctx.db, 'ada@example.com', { name: 'Ada Lovelace', team: 'Analytical Engines' })
      grace = await seedUser(server.ctx.db, 'grace@example.com', { name: 'Grace Hopper', team: 'Compilers' })
    },
    { timeout: 90_000 },
  )
  after(async () => {
    await stopBrowserAndServer(browser, server)
    await mail?.close()
  })

  const sessionAmr = async (userId: number): Promise<string[]> => {
    const rows = await server.ctx.db.kysely.selectFrom('sessions').select('amr').where('user_id', '=', userId).execute()
    return rows.map((r) => r.amr ?? '')
  }

  const credentialOf = async (userId: number): Promise<string> => {
    const row = await server.ctx.db.kysely
      .selectFrom('user_factors')
      .select('credential_id')
      .where('user_id', '=', userId)
      .where('kind', '=', 'passkey')
      .executeTakeFirstOrThrow()
    return row.credential_id!
  }

  it('adds a named passkey, signs in with it after the password and alone, refuses bad answers, and deletes it', { timeout: 240_000 }, (t) =>
    withPage(browser, t, async (page, context) => {
      await addAuthenticator(page, context)
      await withoutScript(page, () => logIn(page, base, ada.user.email, PASSWORD))
      await addPasskey(page, base, 'Work laptop')
      // The first factor comes with recovery codes.
      assert.equal(await page.getByTestId('recovery-codes').locator('li').count(), 10)
      const added = await mail.nextMailTo(ada.user.email)
      assert.match(added.text, /The passkey "Work laptop" was just added/)
      await page.goto(`${base}/account/security`)
      const row = page.getByTestId('factor-row')
      assert.equal(await row.count(), 1)
      assert.match((await row.textContent()) ?? '', /Passkey\s+Work laptop[\s\S]*Not yet/)

      // After the password, the passkey is the second step.
      await context.clearCookies()
      await enterPassword(page, base, ada.user.email)
      await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.getByRole('button', { name: 'Use a passkey' }).click()])
      assert.ok((await sessionAmr(ada.user.id)).includes('pwd hwk mfa'))
      await page.goto(`${base}/account/security`)
      assert.doesNotMatch((await row.textContent()) ?? '', /Not yet/)

      // Alone, from the login page: through the browser's autofill, which the virtual authenticator accepts at once.
      await context.clearCookies()
      await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.goto(`${base}/login`)])
      assert.ok((await sessionAmr(ada.user.id)).includes('hwk user mfa'))

      // A tampered answer, an expired challenge and a counter that went backwards are refused, none with a 500.
      await context.clearCookies()
      await openLoginWithoutScript(page, base)
      const tampered = await answerLogin(page, 'passwordless', { alter: 'signature' })
      assert.deepEqual(tampered, { status: 401, body: { error: MESSAGES.passkey_response_invalid } })

      await page.exposeFunction('advanceClock', () => {
        offset += 4 * 60_000
      })
      await page.evaluate('window.meanwhile = () => window.advanceClock()')
      const late = await answerLogin(page, 'passwordless')
      assert.deepEqual(late, { status: 400, body: { error: MESSAGES.passkey_challenge_expired } })
      offset = 0
      await page.evaluate('delete window.meanwhile')

      await server.ctx.db.kysely.updateTable('user_factors').set({ sign_count: 1_000_000 }).where('user_id', '=', ada.user.id).execute()
      const cloned = await answerLogin(page, 'passwordless')
      assert.deepEqual(cloned, { status: 401, body: { error: MESSAGES.passkey_counter_backwards } })
      // The page says so too, and signs nobody in.
      await page.goto(`${base}/login`)
      await page.getByText(MESSAGES.passkey_counter_backwards).waitFor()
      assert.equal(new URL(page.url()).pathname, '/login')
      await server.ctx.db.kysely.updateTable('user_factors').set({ sign_count: 0 }).where('user_id', '=', ada.user.id).execute()

      // A browser without passkey autofill offers the button.
      await page.addInitScript('PublicKeyCredential.isConditionalMediationAvailable = async () => false')
      await page.goto(`${base}/login`)
      await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.getByRole('button', { name: 'Sign in with a passkey' }).click()])
      await context.clearCookies()

      // Grace's passkey on the same authenticator does not answer for Ada after Ada's password.
      await withoutScript(page, () => logIn(page, base, grace.user.email, PASSWORD))
      await addPasskey(page, base, 'Grace laptop')
      await context.clearCookies()
      await enterPassword(page, base, ada.user.email)
      const foreign = await answerLogin(page, 'second-step', { allow: await credentialOf(grace.user.id) })
      assert.deepEqual(foreign, { status: 401, body: { error: MESSAGES.passkey_of_another_user } })

      // Ada signs in with her passkey and deletes it; it then opens nothing.
      await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.getByRole('button', { name: 'Use a passkey' }).click()])
      const adaCredential = await credentialOf(ada.user.id)
      await page.goto(`${base}/account/security`)
      await Promise.all([page.waitForURL((url) => url.searchParams.get('done') === 'removed'), page.getByRole('button', { name: /^Remove/ }).click()])
      assert.ok(await page.getByTestId('no-factors').isVisible())
      const removed = await mail.nextMailTo(ada.user.email)
      assert.match(removed.text, /The passkey "Work laptop"/)
      await context.clearCookies()
      await openLoginWithoutScript(page, base)
      const gone = await answerLogin(page, 'passwordless', { allow: adaCredential })
      assert.deepEqual(gone, { status: 401, body: { error: MESSAGES.passkey_unknown } })
    }),
  )
  it('steps a password-only session up to a passkey for acr_values phishing-resistant; openid-client reads acr and amr', { timeout: 120_000 }, (t) =>
    withPage(browser, t, async (page, context) => {
      const carol = await seedUser(server.ctx.db, 'carol@example.com', { name: 'Carol', team: 'Looms' })
      const callback = `${base}/healthz`
      const app = await seedClient(server.ctx, carol, { redirectUris: [callback] })
      const config = await oidc.discovery(new URL(base), app.id, app.secret, undefined, { execute: [oidc.allowInsecureRequests] })
      await addAuthenticator(page, context)
      // Signed in with the password before the passkey was added.
      await withoutScript(page, () => logIn(page, base, carol.user.email, PASSWORD))
      await addPasskey(page, base, 'Carol laptop')

      const verifier = oidc.randomPKCECodeVerifier()
      const state = oidc.randomState()
      const nonce = oidc.randomNonce()
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: callback,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        acr_values: ACR.phishingResistant,
      })
      await page.goto(url.href)
      await page.waitForURL((u) => u.pathname === '/login/code')
      await page.getByRole('button', { name: 'Use a passkey' }).click()
      const approve = page.getByRole('button', { name: 'Approve' })
      await approve.waitFor()
      await Promise.all([page.waitForURL((u) => u.pathname === '/healthz'), approve.click()])
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      })
      const claims = tokens.claims()!
      assert.equal(claims.acr, ACR.phishingResistant)
      assert.deepEqual(claims.amr, ['pwd', 'hwk', 'mfa'])
    }),
  )
})
