import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, it } from 'node:test'
import { ClientCredentialsProvider, PrivateKeyJwtProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { decodeJwt } from 'jose'
import { createResource } from '../resources/resources.js'
import { forEachDialect } from '../testing/dialects.js'
import { seedClient, seedUser, type SeededUser } from '../testing/fixtures.js'
import { startMcpServer } from '../testing/mcp.js'
import { startTestServer, type TestServer } from '../testing/server.js'

/**
 * The MCP SDK's machine-to-machine providers (its client credentials and
 * private-key-JWT extensions), unmodified, reach an MCP server built from
 * the SDK's own pieces that trusts Gatehouse: the token is bound to that
 * server and acts as the service client's service account.
 */
await forEachDialect('MCP SDK client credentials against an MCP server that trusts Gatehouse', (dialect) => {
  let server: TestServer
  let ada: SeededUser
  let notes: Awaited<ReturnType<typeof startMcpServer>>

  before(async () => {
    server = await startTestServer(dialect)
    ada = await seedUser(server.ctx.db, 'ada@example.com', { team: 'Engines' })
    const introspector = await seedClient(server.ctx, ada, { name: 'MCP servers', isFirstParty: true })
    notes = await startMcpServer(server.url, { id: introspector.id, secret: introspector.secret })
    notes.setResource(notes.url)
    await createResource(server.ctx.db, server.url, { uri: notes.url, name: 'Notes MCP', scopes: ['notes'] }, Date.now())
  })
  after(async () => {
    await notes?.close()
    await server?.stop()
  })

  async function whoami(provider: OAuthClientProvider): Promise<string> {
    const client = new Client({ name: 'nightly-agent', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(notes.url), { authProvider: provider }))
    try {
      const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: { type: string; text: string }[] }
      return result.content[0]!.text
    } finally {
      await client.close()
    }
  }

  it('ClientCredentialsProvider: a service client with its secret', async () => {
    const service = await seedClient(server.ctx, ada, { name: 'Nightly agent', isService: true, redirectUris: [] })
    const provider = new ClientCredentialsProvider({ clientId: service.id, clientSecret: service.secret, scope: 'notes', expectedIssuer: server.url })
    assert.equal(await whoami(provider), `user ${service.client.serviceAccountId} in team ${ada.team!.id}`)
    const token = provider.tokens()!
    assert.equal(decodeJwt(token.access_token).aud, notes.url)
    assert.equal(token.refresh_token, undefined)
  })

  it('PrivateKeyJwtProvider: a service client that registered its public key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const service = await seedClient(server.ctx, ada, {
      name: 'Keyed agent',
      isService: true,
      redirectUris: [],
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'agent-1' }] },
    })
    const provider = new PrivateKeyJwtProvider({
      clientId: service.id,
      privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      algorithm: 'RS256',
      scope: 'notes',
      expectedIssuer: server.url,
    })
    assert.equal(await whoami(provider), `user ${service.client.serviceAccountId} in team ${ada.team!.id}`)
    assert.equal(decodeJwt(provider.tokens()!.access_token).aud, notes.url)
  })
})
