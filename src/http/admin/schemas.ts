import { AdminProblem, problemSchema, PROBLEM_MEDIA_TYPE } from './problems.js'

/** JSON Schema pieces the admin routes are described with; @fastify/swagger makes the OpenAPI document from them. */

export const PAGE_SIZE_DEFAULT = 50
export const PAGE_SIZE_MAX = 100

const problemResponse = { description: 'A problem (RFC 9457); its `type` names what went wrong.', content: { [PROBLEM_MEDIA_TYPE]: { schema: problemSchema } } }

/** Every operation may answer a problem: 4xx for what the caller can fix, 5xx for what they cannot. */
export const problems = { '4xx': problemResponse, '5xx': problemResponse } as const

export const timestamp = { type: 'string', format: 'date-time' } as const
export const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' } as const

/** `cursor` and `limit` of every list, plus its filters. */
export function listQuery(filters: Record<string, object> = {}) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      cursor: { type: 'string', maxLength: 500, description: 'The `next_cursor` of the previous page.' },
      limit: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX, default: PAGE_SIZE_DEFAULT },
      ...filters,
    },
  } as const
}

export function listOf(item: object) {
  return {
    type: 'object',
    required: ['object', 'data', 'has_more', 'next_cursor'],
    additionalProperties: false,
    properties: {
      object: { type: 'string', enum: ['list'] },
      data: { type: 'array', items: item },
      has_more: { type: 'boolean' },
      next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' },
    },
  } as const
}

/** A strict object: every property required unless listed as optional, nothing else allowed. */
export function object(properties: Record<string, object>, optional: string[] = []) {
  return {
    type: 'object',
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
    properties,
  } as const
}

export function params(properties: Record<string, object>) {
  return { type: 'object', required: Object.keys(properties), additionalProperties: false, properties } as const
}

export const idParam = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const

export interface Page<T> {
  object: 'list'
  data: T[]
  has_more: boolean
  next_cursor: string | null
}

/** A page of a list fetched one item past `limit`: the extra item says there is more. */
export function pageOf<T, R>(fetched: T[], limit: number, cursorOf: (item: T) => string, represent: (item: T) => R): Page<R> {
  const items = fetched.slice(0, limit)
  const more = fetched.length > limit
  return { object: 'list', data: items.map(represent), has_more: more, next_cursor: more ? cursorOf(items[items.length - 1]!) : null }
}

/** The same, for a short list read whole and ordered by its key: the items after the cursor. */
export function pageAfter<T, R>(all: T[], cursor: string | undefined, limit: number, keyOf: (item: T) => string, represent: (item: T) => R): Page<R> {
  const sorted = [...all].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0))
  const rest = cursor === undefined ? sorted : sorted.filter((item) => keyOf(item) > cursor)
  return pageOf(rest.slice(0, limit + 1), limit, keyOf, represent)
}

/** A numeric cursor, or a problem: a cursor is only ever what a previous page said. */
export function numericCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  if (!/^\d{1,15}$/.test(cursor)) throw new AdminProblem(400, 'cursor_invalid', 'The cursor is not one a previous page gave.')
  return Number(cursor)
}

/** Numeric keys zero-padded, so that their order as strings is their order as numbers. */
export function numericKey(id: number): string {
  return String(id).padStart(16, '0')
}
