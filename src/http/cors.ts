import type { FastifyInstance, FastifyReply } from 'fastify'
import { finishReadingBody } from './errors.js'

/**
 * CORS for the machine endpoints a browser-based client calls (metadata,
 * keys, token, revocation, registration): any origin, no credentials, since
 * these endpoints never read cookies. Every other path, the authorization
 * endpoint, the login page and the portal above all, sends no CORS header.
 */
export function allowCrossOrigin(app: FastifyInstance, paths: string[]): { addPreflightRoutes(): void } {
  const open = new Set(paths)
  const preflight = (reply: FastifyReply) =>
    reply
      .code(204)
      .header('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE')
      // mcp-protocol-version: MCP clients send it when they read metadata.
      .header('Access-Control-Allow-Headers', 'authorization, content-type, mcp-protocol-version')
      .header('Access-Control-Max-Age', '600')
      .send()
  // Added before the routes, so every scope inherits it: a preflight is answered before the route's handler, whatever it is.
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url
    if (request.method === 'OPTIONS' && route !== undefined && open.has(route)) {
      await finishReadingBody(request, reply)
      return preflight(reply)
    }
  })
  app.addHook('onSend', (request, reply, payload, done) => {
    const route = request.routeOptions.url
    if (route !== undefined && open.has(route)) {
      reply.header('Access-Control-Allow-Origin', '*')
      // A client reading a 401 must see the challenge that tells it where to go (RFC 9728 §5.1).
      reply.header('Access-Control-Expose-Headers', 'WWW-Authenticate, Retry-After')
    }
    done(null, payload)
  })
  return {
    /** Once the routes are in: an OPTIONS route for each path that has none, so its preflight finds a route to answer on. */
    addPreflightRoutes() {
      for (const url of paths) if (!app.hasRoute({ method: 'OPTIONS', url })) app.options(url, async (_request, reply) => preflight(reply))
    },
  }
}
