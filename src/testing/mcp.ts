import type { Server } from 'node:http'
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import express from 'express'
import { createTokenVerifier, protectedResourceMetadata, protectedResourceMetadataUrl, TokenRejectedError } from '../resource-server/index.js'

/** What the notes server's write_note tool needs; connecting needs only `notes`. */
export const WRITE_NOTE_SCOPES = ['notes', 'notes:write']

/**
 * A small MCP server made of the SDK's own pieces (McpServer, the streamable
 * HTTP transport, requireBearerAuth), trusting Gatehouse through the kit,
 * the way the README shows.
 */
export async function startMcpServer(
  issuer: string,
  service: { id: string; secret: string },
): Promise<{ url: string; setResource(uri: string): void; close(): Promise<void> }> {
  const app = express()
  app.use(express.json())
  let resource = ''
  const handle = {} as { verifier: ReturnType<typeof createTokenVerifier> }
  app.get(/^\/\.well-known\/oauth-protected-resource\/mcp$/, (_req, res) => {
    res.json(protectedResourceMetadata({ resource, issuer, scopesSupported: ['notes'], resourceName: 'Notes' }))
  })
  app.post('/mcp', (req, res, next) =>
    requireBearerAuth({
      verifier: {
        async verifyAccessToken(token) {
          try {
            const verified = await handle.verifier.verify(token)
            return {
              token,
              clientId: verified.clientId ?? '',
              scopes: verified.scopes,
              expiresAt: verified.expiresAt,
              resource: new URL(resource),
              extra: { userId: verified.userId, teamId: verified.teamId },
            }
          } catch (err) {
            if (err instanceof TokenRejectedError) throw new InvalidTokenError(err.message)
            throw err
          }
        },
      },
      resourceMetadataUrl: protectedResourceMetadataUrl(resource),
    })(req, res, next),
  )
  // A tool that changes notes needs more than the connection does: the token's scopes are checked once the call is read.
  app.post('/mcp', (req, res, next) => {
    const call = req.body as { method?: string; params?: { name?: string } }
    if (call.method !== 'tools/call' || call.params?.name !== 'write_note') return next()
    try {
      handle.verifier.requireScopes(req.auth!, WRITE_NOTE_SCOPES)
      next()
    } catch (err) {
      if (!(err instanceof TokenRejectedError)) return next(err)
      res.status(err.status).set('WWW-Authenticate', err.challenge).json({ error: err.error })
    }
  })
  app.post('/mcp', async (req, res) => {
    const server = new McpServer({ name: 'notes', version: '1.0.0' })
    server.registerTool('whoami', { description: 'Who the token acts for' }, async (extra) => ({
      content: [{ type: 'text', text: `user ${String(extra.authInfo?.extra?.userId)} in team ${String(extra.authInfo?.extra?.teamId)}` }],
    }))
    server.registerTool('write_note', { description: 'Writes a note' }, async (extra) => ({
      content: [{ type: 'text', text: `written with ${extra.authInfo?.scopes.join(' ') ?? ''}` }],
    }))
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => void transport.close())
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  const listener: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  const url = `http://127.0.0.1:${(listener.address() as { port: number }).port}/mcp`
  return {
    url,
    setResource(uri) {
      resource = uri
      handle.verifier = createTokenVerifier({
        issuer,
        clientId: service.id,
        clientSecret: service.secret,
        audience: uri,
        resourceMetadataUrl: protectedResourceMetadataUrl(uri),
        introspectionCacheMs: 0,
      })
    },
    close: () =>
      new Promise((resolve) => {
        listener.closeAllConnections()
        listener.close(() => resolve())
      }),
  }
}
