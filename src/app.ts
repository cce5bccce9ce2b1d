import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { AppContext } from './context.js'
import { AccessLog } from './http/access-log.js'
import { addPageErrorHandlers } from './http/pages/error-page.js'
import { homeRoutes } from './http/pages/home.js'
import { newTeamRoutes } from './http/pages/new-team.js'
import { loginRoutes } from './http/pages/login.js'
import { passwordResetRoutes } from './http/pages/password-reset.js'
import { accountRoutes } from './http/pages/account.js'
import { securityRoutes } from './http/pages/security.js'
import { teamSettingsRoutes } from './http/pages/team-settings.js'
import { addSecurityHeaders } from './http/security-headers.js'
import { brandingRoutes } from './http/branding.js'
import { allowCrossOrigin } from './http/cors.js'
import { answerClientError, closeConnectionsGracefully } from './http/graceful-close.js'
import { ENDPOINTS } from './oauth/metadata.js'
import { apiResourceMetadataUrl } from './resources/resources.js'
import { authorizeRoutes } from './http/oauth/authorize.js'
import { oauthEndpoints } from './http/oauth/endpoints.js'
import { userinfoRoutes } from './http/oauth/userinfo.js'
import { endSessionRoutes } from './http/oauth/end-session.js'
import { apiRoutes } from './http/api/routes.js'
import { adminRoutes } from './http/admin/routes.js'
import { collectOpenApi, openApiRoutes } from './http/openapi.js'
import { healthRoutes } from './http/health.js'
import { activityRoutes } from './http/pages/activity.js'
import { clientRoutes } from './http/pages/clients/routes.js'
import { personalAccessTokenRoutes } from './http/pages/personal-access-tokens.js'
import { teamAppRoutes } from './http/pages/team-apps.js'
import { webhookRoutes } from './http/pages/webhooks.js'
import { sessionRoutes } from './http/pages/sessions.js'
import { settingsRoutes } from './http/pages/settings.js'
import { memberRoutes } from './http/pages/members.js'
import { invitationRoutes } from './http/pages/invitation.js'
import { signupRoutes } from './http/pages/signup.js'
import { deviceRoutes } from './http/pages/device.js'
import { measureRequests } from './observability/http.js'
import { compilersOnFirstUse } from './http/schema-compilers.js'
import { isTracing, traceRequests } from './observability/tracing.js'

const stylesheet = readFileSync(fileURLToPath(new URL('../../public/app.css', import.meta.url)), 'utf8')
const portalScript = readFileSync(fileURLToPath(new URL('../../public/portal.js', import.meta.url)), 'utf8')
const favicon = readFileSync(fileURLToPath(new URL('../../public/favicon.svg', import.meta.url)), 'utf8')

/** The limits of the HTTP server, chosen by server.ts. */
export type HttpLimits = Pick<FastifyServerOptions, 'requestTimeout' | 'keepAliveTimeout' | 'bodyLimit'>

/**
 * Node.js, not Fastify, cuts requests that take too long, and only as often
 * as it checks its connections (every 30 s unless told); unfinished headers
 * get 60 s of their own unless told. A stalled request would otherwise be
 * held up to three times the limit. Node reads these when the server is made.
 */
function enforcedRequestTimeout(requestTimeout: number) {
  return { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1000, Math.ceil(requestTimeout / 4)) }
}

/** Builds the Gatehouse HTTP app; it never listens (see server.ts). `logger` is the one the domain logs to as well. */
export async function buildApp(ctx: AppContext, logger: FastifyBaseLogger, limits: HttpLimits): Promise<FastifyInstance> {
  const trust = ctx.config.trustProxy
  // A hop count means: believe that many proxies nearest to us (proxy-addr counts hops from 0).
  const trustProxy = typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust
  const app = Fastify({
    loggerInstance: logger,
    trustProxy,
    logController: new AccessLog(ctx.config.accessLog),
    ...limits,
    http: limits.requestTimeout ? enforcedRequestTimeout(limits.requestTimeout) : null,
    clientErrorHandler: answerClientError,
    schemaController: { compilersFactory: compilersOnFirstUse },
  })
  // First, so the time and the span cover every other hook.
  if (isTracing()) traceRequests(app)
  if (ctx.config.managementPort !== 'off') measureRequests(app)
  closeConnectionsGracefully(app)
  await app.register(cookie)
  await app.register(formbody)
  await collectOpenApi(app)
  addSecurityHeaders(app, ctx.config)
  const cors = allowCrossOrigin(app, [
    '/.well-known/oauth-authorization-server',
    '/.well-known/openid-configuration',
    new URL(apiResourceMetadataUrl(ctx.config.issuer)).pathname,
    ENDPOINTS.jwks,
    '/.well-known/jwks.json',
    ENDPOINTS.token,
    ENDPOINTS.revocation,
    ...(ctx.config.clientRegistration === 'off' ? [] : [ENDPOINTS.registration, `${ENDPOINTS.registration}/:id`]),
  ])
  addPageErrorHandlers(app, ctx)

  app.get('/assets/app.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(stylesheet))
  app.get('/assets/portal.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(portalScript),
  )
  // Browsers ask for /favicon.ico on their own, pages or not: both addresses answer with the icon.
  for (const path of ['/assets/favicon.svg', '/favicon.ico']) {
    app.get(path, async (_request, reply) => reply.type('image/svg+xml').header('Cache-Control', 'public, max-age=86400').send(favicon))
  }
  brandingRoutes(app, ctx.config.brand)
  healthRoutes(app, ctx)

  loginRoutes(app, ctx)
  passwordResetRoutes(app, ctx)
  accountRoutes(app, ctx)
  securityRoutes(app, ctx)
  teamSettingsRoutes(app, ctx)
  homeRoutes(app, ctx)
  newTeamRoutes(app, ctx)
  settingsRoutes(app, ctx)
  sessionRoutes(app, ctx)
  clientRoutes(app, ctx)
  personalAccessTokenRoutes(app, ctx)
  teamAppRoutes(app, ctx)
  webhookRoutes(app, ctx)
  memberRoutes(app, ctx)
  invitationRoutes(app, ctx)
  signupRoutes(app, ctx)
  activityRoutes(app, ctx)
  authorizeRoutes(app, ctx)
  deviceRoutes(app, ctx)
  endSessionRoutes(app, ctx)
  await oauthEndpoints(app, ctx)
  await userinfoRoutes(app, ctx)
  await apiRoutes(app, ctx)
  await adminRoutes(app, ctx)
  openApiRoutes(app, ctx)
  cors.addPreflightRoutes()
  return app
}
