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
  const headers = {
    ...(config.issuer.startsWith('https://') && { 'Strict-Transport-Security': STRICT_TRANSPORT_SECURITY }),
    'Content-Security-Policy': policy,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
  }
  // A callback hook, not an async one: every response passes here, and a promise each is measurable.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(headers)
    done(null, payload)
  })
}
