import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppContext } from '../../context.js'
import { hmac, safeEqual } from '../../crypto/random.js'
import { open, seal } from '../../crypto/secret-box.js'
import { claimIdempotencyKey, findIdempotentRequest, releaseIdempotencyKey, storeIdempotentResponse } from '../../db/admin-idempotency.js'
import { AdminProblem } from './problems.js'

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey: string | null
  }
}

/** A retry within a day answers as the first request did; after that the key may be used again. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000

const KEY = /^[\x21-\x7e]{1,255}$/

/** What is kept of an answer to replay it: the headers a client acts on, and the body as sent. */
interface StoredAnswer {
  contentType: string | undefined
  location: string | undefined
  etag: string | undefined
  body: string
}

/** Keyed, as the body may hold a password: the stored hash cannot be checked against guesses without GATEHOUSE_SECRET. */
function requestHash(key: Buffer, request: FastifyRequest): string {
  return hmac(key, `${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
}

function header(reply: FastifyReply, name: string): string | undefined {
  const value = reply.getHeader(name)
  return value === undefined ? undefined : String(value)
}

/**
 * `Idempotency-Key` on a POST: the first request with a key claims it (in
 * the database, so every process sees the claim); a retry with the same key
 * and body gets the first answer again, with `Idempotent-Replayed: true`; the
 * same key with another request is refused (422), and one still being
 * answered is refused too (409), so a create runs once.
 */
export function idempotency(ctx: AppContext) {
  return {
    async preHandler(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
      const raw = request.headers['idempotency-key']
      if (request.method !== 'POST' || raw === undefined || !request.adminToken) return undefined
      const key = Array.isArray(raw) ? raw[0]! : raw
      if (!KEY.test(key)) throw new AdminProblem(400, 'idempotency_key_invalid', 'An Idempotency-Key is 1 to 255 visible ASCII characters.')
      const tokenId = request.adminToken.id
      const hash = requestHash(ctx.keys.idempotency, request)
      const now = ctx.clock()
      if (await claimIdempotencyKey(ctx.db.kysely, { adminTokenId: tokenId, key, requestHash: hash, now, expiresAt: now + IDEMPOTENCY_WINDOW_MS })) {
        request.idempotencyKey = key
        return undefined
      }
      const stored = await findIdempotentRequest(ctx.db.kysely, tokenId, key)
      if (!stored) throw new AdminProblem(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is being answered. Try again shortly.')
      if (!safeEqual(stored.requestHash, hash))
        throw new AdminProblem(
          422,
          'idempotency_key_reused',
          'This Idempotency-Key was used for another request.',
          'This Idempotency-Key was sent before with another path or body. Use a new key for a new request.',
        )
      if (stored.status === null || stored.responseSealed === null)
        throw new AdminProblem(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is being answered. Try again shortly.')
      const answer = JSON.parse(open(ctx.keys.encryption, stored.responseSealed)) as StoredAnswer
      reply.header('Idempotent-Replayed', 'true')
      if (answer.location) reply.header('Location', answer.location)
      if (answer.etag) reply.header('ETag', answer.etag)
      if (answer.contentType) reply.type(answer.contentType)
      return reply.code(stored.status).send(answer.body)
    },

    /** Keeps the answer for retries; a failure on our side lets the key be tried again instead. */
    async onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
      const key = request.idempotencyKey
      if (key === null || !request.adminToken) return payload
      request.idempotencyKey = null
      if (reply.statusCode >= 500 || typeof payload !== 'string') {
        await releaseIdempotencyKey(ctx.db.kysely, request.adminToken.id, key)
        return payload
      }
      const answer: StoredAnswer = {
        contentType: header(reply, 'content-type'),
        location: header(reply, 'location'),
        etag: header(reply, 'etag'),
        body: payload,
      }
      await storeIdempotentResponse(ctx.db.kysely, request.adminToken.id, key, reply.statusCode, seal(ctx.keys.encryption, JSON.stringify(answer)))
      return payload
    },
  }
}
