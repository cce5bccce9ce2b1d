import type { FastifyReply, FastifyRequest } from 'fastify'
import { AdminProblem } from './problems.js'

/** A strong validator for the state of one object: its kind, id and last change. */
export function etagOf(kind: string, id: string | number, updatedAt: Date): string {
  return `"${kind}-${id}-${updatedAt.getTime().toString(36)}"`
}

export function sendWithEtag<T>(reply: FastifyReply, etag: string, body: T): T {
  reply.header('ETag', etag)
  return body
}

/**
 * Optimistic concurrency: an update with `If-Match` goes ahead only while the
 * object is as the client last read it (else 412). Without `If-Match` the
 * update goes ahead, last write wins, as docs/admin-api.md says.
 */
export function checkIfMatch(request: FastifyRequest, current: string): void {
  const given = request.headers['if-match']
  if (given === undefined) return
  const tags = given.split(',').map((t) => t.trim())
  if (tags.includes('*') || tags.includes(current)) return
  throw new AdminProblem(
    412,
    'precondition_failed',
    'The object changed since it was read.',
    'The If-Match header does not match the current ETag: read the object again and apply the change to what it is now.',
  )
}
