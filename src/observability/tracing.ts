import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { readFileSync } from 'node:fs'

/**
 * OpenTelemetry traces, off unless an OTLP endpoint is set. Spans are made
 * by hand where the time goes (a request, its database statements, signing,
 * calls out, mail) rather than by patching libraries. Attributes name what
 * ran, never what it carried: a route template rather than a path, no query
 * string, header, token, code or password.
 */

/** The OpenTelemetry API and Gatehouse's tracer, loaded with the SDK when tracing starts: a process that does not trace loads none of it. */
let otel: { api: typeof import('@opentelemetry/api'); tracer: Tracer } | undefined

export interface Tracing {
  /** Sends the spans still buffered. */
  shutdown(): Promise<void>
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version
}

/**
 * Starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; the SDK reads the other
 * standard OTEL_* variables (sampler, headers, service name and resource
 * attributes) itself. The SDK is loaded only then, so a process that does
 * not trace carries none of it.
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined
  const [api, { NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { detectResources, envDetector, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ])
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override these.
  const resource = resourceFromAttributes({ 'service.name': 'gatehouse', 'service.version': packageVersion() }).merge(
    detectResources({ detectors: [envDetector] }),
  )
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] })
  // The AsyncLocalStorage context manager and the W3C traceparent propagator.
  provider.register()
  otel = { api, tracer: api.trace.getTracer('gatehouse', packageVersion()) }
  return {
    async shutdown() {
      otel = undefined
      await provider.shutdown()
    },
  }
}

/** The ids a log line carries while a span is active, so the line and its trace meet. */
export function traceFields(): Record<string, string> {
  const span = otel?.api.trace.getActiveSpan()
  if (!span) return {}
  const { traceId, spanId } = span.spanContext()
  return { trace_id: traceId, span_id: spanId }
}

/** Adds an attribute to the active span, if any: for what is known only partway through the work. */
export function setSpanAttribute(name: string, value: string | number): void {
  otel?.api.trace.getActiveSpan()?.setAttribute(name, value)
}

export function isTracing(): boolean {
  return otel !== undefined
}

/** Runs `work` in a child span of the active one; without tracing, just runs it. An error marks the span with its class name only. */
export async function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>, kind: 'internal' | 'client' = 'internal'): Promise<T> {
  if (!otel) return work()
  const { api, tracer } = otel
  return tracer.startActiveSpan(name, { kind: kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await work()
    } catch (err) {
      span.setStatus({ code: api.SpanStatusCode.ERROR })
      span.setAttribute('error.type', err instanceof Error ? err.name : 'error')
      throw err
    } finally {
      span.end()
    }
  })
}

/** A span for work that already ended, `durationMs` long, under the active span: a statement is timed where it runs and told once it ended. */
export function recordFinishedSpan(name: string, durationMs: number, attributes: Attributes, failed: boolean): void {
  if (!otel) return
  const { api, tracer } = otel
  const active = api.context.active()
  // Statements outside a request (the janitor, the queues' polling) would each start a trace of their own.
  if (!api.trace.getSpan(active)) return
  const end = Date.now()
  const span = tracer.startSpan(name, { kind: api.SpanKind.CLIENT, startTime: end - durationMs, attributes }, active)
  if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR })
  span.end(end)
}

const requestSpans = new WeakMap<FastifyRequest, { span: Span; context: Context }>()

/**
 * One server span per request, named by method and route template, under
 * the caller's span when a W3C `traceparent` came with the request. The
 * span's context is entered in onRequest and again once the body is read
 * (the body arrives in the socket's own callbacks, outside it), so the
 * handler's work nests under it.
 */
export function traceRequests(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (!otel) return done()
    const { api, tracer } = otel
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched')
    const parent = api.propagation.extract(api.context.active(), request.headers)
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.scheme': request.protocol } },
      parent,
    )
    const active = api.trace.setSpan(parent, span)
    requestSpans.set(request, { span, context: active })
    api.context.with(active, done)
  })
  app.addHook('preValidation', (request, _reply, done) => {
    const entered = requestSpans.get(request)
    if (!entered || !otel) return done()
    otel.api.context.with(entered.context, done)
  })
  app.addHook('onResponse', (request, reply, done) => {
    const entered = requestSpans.get(request)
    if (!entered || !otel) return done()
    entered.span.setAttribute('http.response.status_code', reply.statusCode)
    if (reply.statusCode >= 500) entered.span.setStatus({ code: otel.api.SpanStatusCode.ERROR })
    entered.span.end()
    requestSpans.delete(request)
    // The access log line is written after this hook: in the span's context, it carries the trace id.
    otel.api.context.with(entered.context, done)
  })
}
