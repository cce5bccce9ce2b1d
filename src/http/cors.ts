import type { FastifyInstance } from 'fastify'

/**
 * CORS for the machine endpoints a browser-based client calls (metadata,
 * keys, token, revocation, registration): any origin, no credentials, since
 * these endpoints never read cookies. Every other path, the authorization
 * endpoint, the login page and the portal above all, sends no CORS header.
 */
export function allowCrossOrigin(app: FastifyInstance, paths: string[]): void {
  const open = new Set(paths)
  for (const path of paths) {
    app.options(path, async (request, reply) => {
      const method = request.headers['access-control-request-method']
      return reply
        .code(204)
        .header('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE')
        // mcp-protocol-version: MCP clients send it when they read metadata.
        .header('Access-Control-Allow-Headers', 'authorization, content-type, mcp-protocol-version')
        .header('Access-Control-Max-Age', '600')
        .header('Vary', method === undefined ? 'Origin' : 'Origin, Access-Control-Request-Method')
        .send()
    })
  }
  app.addHook('onSend', async (request, reply) => {
    const route = request.routeOptions.url
    if (route === undefined || !open.has(route)) return
    reply.header('Access-Control-Allow-Origin', '*')
    // A client reading a 401 must see the challenge that tells it where to go (RFC 9728 §5.1).
    reply.header('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After')
  })
}
