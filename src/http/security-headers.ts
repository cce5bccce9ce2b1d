import type { FastifyInstance } from 'fastify'
import type { Brand } from '../config.js'
import { logoOrigin } from './branding.js'

/** Everything from Gatehouse itself; images also from the origin of the operator's logo, if it is elsewhere. */
function contentSecurityPolicy(brand: Brand): string {
  const logo = logoOrigin(brand)
  return [
    "default-src 'self'",
    ...(logo ? [`img-src 'self' ${logo}`] : []),
    "base-uri 'none'",
    "object-src 'none'",
    // The portal may never be framed (clickjacking of the consent page).
    "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * Once a browser has reached an https deployment, it never again tries plain
 * http there (RFC 6797), so no cookie or code can be stripped down to http.
 */
const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains'

/** Headers every response carries, pages and API alike. */
export function addSecurityHeaders(app: FastifyInstance, config: { issuer: string; brand: Brand }): void {
  const policy = contentSecurityPolicy(config.brand)
  app.addHook('onSend', async (_request, reply) => {
    if (config.issuer.startsWith('https://')) reply.header('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY)
    reply.header('Content-Security-Policy', policy)
    reply.header('X-Frame-Options', 'DENY')
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Cross-Origin-Opener-Policy', 'same-origin')
  })
}
