import assert from 'node:assert/strict'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsPlugin from 'ajv-formats'
import type { TestServer } from './server.js'

/*
 * Every response a test receives from a described API is checked against
 * the server's own OpenAPI document: an undocumented status or a body that
 * does not match its schema fails the test.
 */

interface MediaType {
  schema?: object
}

interface Response {
  content?: Record<string, MediaType>
}

interface Operation {
  responses?: Record<string, Response>
}

export interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, Operation>>
}

// ajv-formats is CommonJS: under ESM its function is the module's `default`.
const addFormats = addFormatsPlugin.default

export class OpenApiChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true })
  private readonly validators = new Map<object, ValidateFunction>()
  private readonly routes: { method: string; path: string; pattern: RegExp; literal: boolean; operation: Operation }[]
  /** The operations and statuses the tests answered, as `METHOD path status`. */
  readonly seen = new Set<string>()

  constructor(readonly document: OpenApiDocument) {
    addFormats(this.ajv)
    this.routes = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
        literal: !path.includes('{'),
        operation,
      })),
    )
  }

  static async load(server: TestServer, documentPath: string): Promise<OpenApiChecker> {
    const response = await fetch(new URL(documentPath, server.url))
    assert.equal(response.status, 200)
    return new OpenApiChecker((await response.json()) as OpenApiDocument)
  }

  /** Fails unless the document describes this status of the operation and the body matches its schema. */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): void {
    const path = new URL(url, 'http://x').pathname
    const matches = this.routes.filter((r) => r.method === method && r.pattern.test(path)).sort((a, b) => Number(b.literal) - Number(a.literal))
    const route = matches[0]
    assert.ok(route, `${method} ${path} is not in the OpenAPI document`)
    const responses = route.operation.responses ?? {}
    const key = String(status) in responses ? String(status) : `${String(status)[0]}XX` in responses ? `${String(status)[0]}XX` : undefined
    assert.ok(key, `${method} ${path} answered ${status}, which its OpenAPI description does not list`)
    this.seen.add(`${method} ${route.path} ${key}`)
    const content = responses[key]!.content
    if (!content || body === undefined) return
    const mediaType = (contentType ?? '').split(';')[0]!.trim()
    const described = content[mediaType]
    assert.ok(described?.schema, `${method} ${path} ${status} answered ${mediaType}, which its OpenAPI description does not list`)
    let validate = this.validators.get(described.schema)
    if (!validate) {
      validate = this.ajv.compile(described.schema)
      this.validators.set(described.schema, validate)
    }
    assert.ok(
      validate(body),
      `${method} ${path} ${status}: the body does not match its schema: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
    )
  }
}

export interface Answer<T = Record<string, unknown>> {
  status: number
  headers: Headers
  body: T
}

/** Calls the server and checks the answer against the OpenAPI document before the test sees it. */
export async function callChecked<T = Record<string, unknown>>(
  checker: OpenApiChecker,
  server: TestServer,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let payload: string | undefined
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json'
    payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
  }
  const response = await fetch(new URL(path, server.url), { method, headers, body: payload })
  const text = await response.text()
  const contentType = response.headers.get('content-type')
  const body = text === '' ? undefined : /json/.test(contentType ?? '') ? (JSON.parse(text) as unknown) : text
  checker.check(method, path, response.status, contentType, body)
  return { status: response.status, headers: response.headers, body: body as T }
}
