import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { auth, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { decodeJwt } from 'jose'
import type { Browser, Page } from 'playwright-core'
import { createUser } from '../accounts/users.js'
import { registerClient } from '../clients/clients.js'
import { deriveKeys } from '../crypto/master-key.js'
import { openDatabase, type Db } from '../db/connection.js'
import { migrateToLatest } from '../db/migrate.js'
import { createResource } from '../resources/resources.js'
import { browserSkipReason, launchChromium, withPage } from '../testing/browser.js'
import { createTestDatabase, type TestDatabase } from '../testing/databases.js'
import { selfSignedCertificate, startHttpsServer } from '../testing/https.js'
import { PASSWORD, startGatehouse, TEST_SECRET, type SpawnedServer } from '../testing/spawned.js'
import { startMcpServer, WRITE_NOTE_SCOPES } from '../testing/mcp.js'
import { protectedResourceMetadataUrl } from './index.js'

const EMAIL = 'ada@example.com'
const CALLBACK = 'http://127.0.0.1:45377/callback'

/** An OAuthClientProvider that keeps everything in memory, as a desktop MCP client keeps it on disk. */
class MemoryProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined
  private information: OAuthClientInformationMixed | undefined
  protected saved: OAuthTokens | undefined
  private verifier = ''
  constructor(readonly clientMetadataUrl?: string) {}
  get redirectUrl() {
    return CALLBACK
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Test Agent',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }
  clientInformation() {
    return this.information
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.information = information
  }
  tokens() {
    return this.saved
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier
  }
  codeVerifier() {
    return this.verifier
  }
}

/**
 * One that keeps no refresh token. On insufficient_scope the SDK refreshes
 * first when it holds one, and a refresh never adds scopes (RFC 6749 §6),
 * so it would get the same 403 and give up before sending the user to
 * approve more.
 */
class AccessTokenOnlyProvider extends MemoryProvider {
  override saveTokens(tokens: OAuthTokens) {
    this.saved = { ...tokens, refresh_token: undefined }
  }
}

const skip = browserSkipReason()

describe('an unmodified MCP SDK client against MCP servers that trust Gatehouse', { skip: skip ?? false }, () => {
  let database: TestDatabase
  let db: Db
  let dir: string
  let gatehouse: SpawnedServer
  let browser: Browser
  let notes: Awaited<ReturnType<typeof startMcpServer>>
  let other: Awaited<ReturnType<typeof startMcpServer>>
  let documents: Awaited<ReturnType<typeof startHttpsServer>>
  let userId: number

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-mcp-'))
      const certificate = selfSignedCertificate(dir)
      let origin = ''
      documents = await startHttpsServer(certificate, (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
        // The step-up agent declares every scope it may come to ask for; Gatehouse holds a self-registered client to them.
        const stepUp = req.url === '/step-up.json'
        res.end(
          JSON.stringify({
            client_id: `${origin}${req.url}`,
            client_name: stepUp ? 'Step-up Agent' : 'Document Agent',
            redirect_uris: [CALLBACK],
            grant_types: ['authorization_code', 'refresh_token'],
            token_endpoint_auth_method: 'none',
            ...(stepUp && { scope: WRITE_NOTE_SCOPES.join(' ') }),
          }),
        )
      })
      origin = `https://localhost:${documents.port}`
      database = await createTestDatabase('sqlite')
      db = await openDatabase(database.url)
      await migrateToLatest(db)
      const { user, team } = await createUser(db, { email: EMAIL, name: 'Ada', password: PASSWORD, teamName: 'Engines' }, Date.now())
      userId = user.id
      const keys = deriveKeys(TEST_SECRET)
      const service = await registerClient(
        db,
        keys,
        { name: 'MCP servers', redirectUris: ['https://mcp.example.com/unused'], ownerUserId: user.id, teamId: team!.id, isFirstParty: true },
        Date.now(),
      )
      gatehouse = await startGatehouse({
        DATABASE_URL: database.url,
        GATEHOUSE_DATA_DIR: dir,
        GATEHOUSE_CLIENT_REGISTRATION: 'open',
        NODE_EXTRA_CA_CERTS: certificate.certPath,
        GATEHOUSE_CLIENT_METADATA_ALLOWED_HOSTS: `localhost:${documents.port}`,
      })
      const issuer = gatehouse.url
      const credentials = { id: service.client.id, secret: service.secret! }
      notes = await startMcpServer(issuer, credentials)
      other = await startMcpServer(issuer, credentials)
      for (const [server, name] of [
        [notes, 'Notes MCP'],
        [other, 'Other MCP'],
      ] as const) {
        server.setResource(server.url)
        await createResource(db, issuer, { uri: server.url, name, scopes: WRITE_NOTE_SCOPES }, Date.now())
      }
      browser = await launchChromium()
    },
    { timeout: 90_000 },
  )

  after(async () => {
    await browser?.close()
    await notes?.close()
    await other?.close()
    await documents?.close()
    await gatehouse?.stop()
    await db?.close()
    await database?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The user logs in if asked, checks the consent page and approves; the code the browser is sent back with. */
  async function approveInBrowser(page: Page, authorizationUrl: URL, expect: { appName: string }): Promise<string> {
    let callback: URL | undefined
    await page.route(`${CALLBACK}**`, async (route) => {
      callback = new URL(route.request().url())
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Agent</title><h1>You can close this window</h1>' })
    })
    await page.goto(authorizationUrl.href)
    if (await page.getByLabel('E-mail address').isVisible()) {
      await page.getByLabel('E-mail address').fill(EMAIL)
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByRole('button', { name: 'Log in' }).click()
    }
    await page.getByTestId('client-name').waitFor()
    assert.equal(await page.getByTestId('client-name').textContent(), expect.appName)
    assert.match((await page.getByTestId('unverified-client').textContent()) ?? '', /registered itself and is not verified/)
    assert.equal(await page.getByTestId('consent-resource').locator('strong').textContent(), 'Notes MCP')
    await page.getByRole('button', { name: 'Approve' }).click()
    await page.getByRole('heading', { name: 'You can close this window' }).waitFor()
    await page.unroute(`${CALLBACK}**`)
    const code = callback?.searchParams.get('code')
    assert.ok(code, `no code in ${callback?.href}`)
    return code
  }

  async function callWhoami(provider: MemoryProvider, serverUrl: string): Promise<string> {
    const client = new Client({ name: 'test-agent', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }))
    try {
      const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: { type: string; text: string }[] }
      return result.content[0]!.text
    } finally {
      await client.close()
    }
  }

  async function flow(page: Page, provider: MemoryProvider, appName: string): Promise<void> {
    assert.equal(await auth(provider, { serverUrl: notes.url }), 'REDIRECT')
    assert.ok(provider.authorizationUrl)
    assert.equal(provider.authorizationUrl.searchParams.get('resource'), notes.url)
    const code = await approveInBrowser(page, provider.authorizationUrl, { appName })
    assert.equal(await auth(provider, { serverUrl: notes.url, authorizationCode: code }), 'AUTHORIZED')
    const first = provider.tokens()!
    assert.equal(decodeJwt(first.access_token).aud, notes.url)
    assert.match(await callWhoami(provider, notes.url), new RegExp(`^user ${userId} in team \\d+$`))

    // A refresh (the SDK refreshes whenever it holds a refresh token): a new token for the same server.
    assert.equal(await auth(provider, { serverUrl: notes.url }), 'AUTHORIZED')
    const refreshed = provider.tokens()!
    assert.notEqual(refreshed.access_token, first.access_token)
    assert.equal(decodeJwt(refreshed.access_token).aud, notes.url)
    assert.match(await callWhoami(provider, notes.url), /^user /)

    // The token is for the notes server only: another MCP server trusting the same Gatehouse refuses it.
    const refused = await fetch(other.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${refreshed.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    assert.equal(refused.status, 401)
    const challenge = refused.headers.get('www-authenticate') ?? ''
    assert.match(challenge, /error="invalid_token"/)
    assert.ok(challenge.includes(`resource_metadata="${protectedResourceMetadataUrl(other.url)}"`), challenge)
  }

  it(
    'registers itself (RFC 7591), logs the user in through Chromium, gets a token bound to the MCP server, calls a tool, refreshes, and is refused by another MCP server',
    { timeout: 120_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        const provider = new MemoryProvider()
        await flow(page, provider, 'Test Agent')
        assert.ok(provider.clientInformation()?.client_id)
        assert.doesNotMatch(String(provider.clientInformation()?.client_id), /^https:/)
      }),
  )

  it('does the same as a Client ID Metadata Document client, its document served over https and allowed by the allow-list', { timeout: 120_000 }, (t) =>
    withPage(browser, t, async (page) => {
      const documentUrl = `https://localhost:${documents.port}/client.json`
      const provider = new MemoryProvider(documentUrl)
      await flow(page, provider, 'Document Agent')
      assert.equal(provider.clientInformation()?.client_id, documentUrl)
    }),
  )

  it(
    'steps up on insufficient_scope: the SDK asks for the scopes the challenge names, the consent page asks only for the new one, and the tool call goes through',
    { timeout: 120_000 },
    (t) =>
      withPage(browser, t, async (page) => {
        const provider = new AccessTokenOnlyProvider(`https://localhost:${documents.port}/step-up.json`)
        assert.equal(await auth(provider, { serverUrl: notes.url }), 'REDIRECT')
        assert.equal(provider.authorizationUrl?.searchParams.get('scope'), 'notes')
        const code = await approveInBrowser(page, provider.authorizationUrl!, { appName: 'Step-up Agent' })
        assert.equal(await auth(provider, { serverUrl: notes.url, authorizationCode: code }), 'AUTHORIZED')
        assert.deepEqual(decodeJwt(provider.tokens()!.access_token).scopes, ['notes'])

        const transport = new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: provider })
        const client = new Client({ name: 'test-agent', version: '1.0.0' })
        await client.connect(transport)
        provider.authorizationUrl = undefined
        await assert.rejects(client.callTool({ name: 'write_note', arguments: {} }), UnauthorizedError)
        await client.close()
        const stepUp = provider.authorizationUrl as URL | undefined
        assert.ok(stepUp, 'the SDK sent the user to approve more')
        assert.equal(stepUp.searchParams.get('scope'), WRITE_NOTE_SCOPES.join(' '))
        assert.equal(stepUp.searchParams.get('resource'), notes.url)

        let callback: URL | undefined
        await page.route(`${CALLBACK}**`, (route) => {
          callback = new URL(route.request().url())
          return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Agent</title><h1>You can close this window</h1>' })
        })
        await page.goto(stepUp.href)
        assert.deepEqual(await page.getByTestId('consent-scope').evaluateAll((items) => items.map((item) => item.getAttribute('data-scope'))), ['notes:write'])
        assert.deepEqual(await page.getByTestId('consent-scope-approved').evaluateAll((items) => items.map((item) => item.getAttribute('data-scope'))), [
          'notes',
        ])
        assert.equal(await page.getByTestId('consent-resource').count(), 0, 'the MCP server was approved before')
        await page.getByRole('button', { name: 'Approve' }).click()
        await page.getByRole('heading', { name: 'You can close this window' }).waitFor()
        await page.unroute(`${CALLBACK}**`)
        await transport.finishAuth(callback!.searchParams.get('code')!)
        assert.deepEqual(decodeJwt(provider.tokens()!.access_token).scopes, WRITE_NOTE_SCOPES)

        const again = new Client({ name: 'test-agent', version: '1.0.0' })
        await again.connect(new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: provider }))
        try {
          const result = (await again.callTool({ name: 'write_note', arguments: {} })) as { content: { text: string }[] }
          assert.equal(result.content[0]!.text, 'written with notes notes:write')
        } finally {
          await again.close()
        }
      }),
  )
})
