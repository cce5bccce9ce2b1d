import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'
import { API_PATH } from '../resources/resources.js'
import { escapeHtml } from './views.js'

/** The two described APIs: where their operations live, and where their OpenAPI documents are served. */
export const DESCRIBED_APIS = [
  {
    prefix: API_PATH,
    document: '/openapi/api-v2.json',
    title: 'Gatehouse API',
    description: 'The protected API: call it with an OAuth access token or a personal access token (Authorization: Bearer).',
    scheme: { type: 'http', scheme: 'bearer', description: 'An OAuth access token (JWT) or a personal access token (gatehouse_pat_…).' },
  },
  {
    prefix: '/admin/v1',
    document: '/openapi/admin-v1.json',
    title: 'Gatehouse Admin API',
    description:
      "The operator's API: call it with an admin token (gatehouse admin-tokens create). Errors are RFC 9457 problems; POSTs honour Idempotency-Key; updates honour If-Match.",
    scheme: { type: 'http', scheme: 'bearer', description: 'An admin token (gatehouse_admin_…); admin:read for GET, admin:write for the rest.' },
  },
] as const

function described(url: string): boolean {
  return DESCRIBED_APIS.some((api) => url.startsWith(`${api.prefix}/`))
}

/**
 * Collects the schemas of every route as it is added (so this must be
 * registered before them); only the described APIs' routes are kept.
 */
export async function collectOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: { openapi: '3.1.0', info: { title: 'Gatehouse', version: '1' } },
    transform: ({ schema, url }) => ({ schema: described(url) ? schema : { ...schema, hide: true }, url }),
  })
}

interface Operation {
  summary?: string
  description?: string
}

/** The part of an OpenAPI document this module reads and writes. */
interface Document {
  paths?: Record<string, Partial<Record<string, Operation>>>
  [member: string]: unknown
}

/** One API's document, cut from everything collected: its paths, its security scheme. */
function documentFor(whole: Document, api: (typeof DESCRIBED_APIS)[number], issuer: string): Document {
  const paths = Object.fromEntries(Object.entries(whole.paths ?? {}).filter(([path]) => path.startsWith(`${api.prefix}/`)))
  return {
    openapi: '3.1.0',
    info: { title: api.title, version: '1', description: api.description },
    servers: [{ url: issuer }],
    components: { securitySchemes: { bearer: { ...api.scheme } } },
    security: [{ bearer: [] }],
    paths,
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const

/** A readable list of every operation, with a link to both documents; no scripts, nothing from elsewhere. */
function referencePage(documents: { api: (typeof DESCRIBED_APIS)[number]; doc: Document }[]): string {
  const sections = documents.map(({ api, doc }) => {
    const rows = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      METHODS.flatMap((method) => {
        const operation = item?.[method]
        if (!operation) return []
        return [
          `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(operation.summary ?? '')}` +
            `${operation.description ? `<br><small>${escapeHtml(operation.description)}</small>` : ''}</td></tr>`,
        ]
      }),
    )
    return (
      `<h2>${escapeHtml(api.title)}</h2><p>${escapeHtml(api.description)}</p>` +
      `<p>OpenAPI 3.1 document: <a href="${api.document}">${api.document}</a></p>` +
      `<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
    )
  })
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gatehouse API reference</title>' +
    '<link rel="stylesheet" href="/assets/app.css"></head><body><main class="reference"><h1>API reference</h1>' +
    sections.join('') +
    '</main></body></html>'
  )
}

/** Serves the OpenAPI documents of /api/v2 and /admin/v1, and the reference page at /openapi. */
export function openApiRoutes(app: FastifyInstance, ctx: AppContext): void {
  let documents: { api: (typeof DESCRIBED_APIS)[number]; doc: Document; json: string }[] | undefined
  const built = () => {
    documents ??= DESCRIBED_APIS.map((api) => {
      const doc = documentFor(app.swagger() as Document, api, ctx.config.issuer)
      return { api, doc, json: JSON.stringify(doc) }
    })
    return documents
  }
  for (const [index, api] of DESCRIBED_APIS.entries()) {
    app.get(api.document, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(built()[index]!.json),
    )
  }
  app.get('/openapi', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(referencePage(built())),
  )
}
