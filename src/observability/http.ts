import type { FastifyInstance } from 'fastify'
import { httpRequestDuration } from './metrics.js'

type Observer = ReturnType<typeof httpRequestDuration.labels>

/** Requests that matched no route share one label, so probing for paths adds no series. */
const UNMATCHED = 'unmatched'
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

/**
 * Times every answered request into the latency histogram, labelled by the
 * route's template (`/oauth/clients/:id`, never the path itself), method and
 * status class. The children are found through two maps keyed by strings
 * Fastify already holds, so a request builds no label string; Fastify's own
 * clock gives the time.
 */
export function measureRequests(app: FastifyInstance): void {
  const children = new Map<string, Map<string, Observer[]>>()
  const childrenOf = (route: string, method: string): Observer[] => {
    let byMethod = children.get(route)
    if (!byMethod) children.set(route, (byMethod = new Map()))
    let byClass = byMethod.get(method)
    if (!byClass) {
      byClass = STATUS_CLASSES.map((statusClass) => httpRequestDuration.labels({ route, method, status_class: statusClass }))
      byMethod.set(method, byClass)
    }
    return byClass
  }
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? UNMATCHED : (request.routeOptions.url ?? UNMATCHED)
    const statusClass = Math.min(Math.max(Math.floor(reply.statusCode / 100), 1), 5) - 1
    childrenOf(route, request.method)[statusClass]!.observe(reply.elapsedTime / 1000)
    done()
  })
}
