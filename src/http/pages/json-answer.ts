import type { FastifyReply } from 'fastify'
import { Refusal } from '../../messages.js'

/** The JSON a page's script reads: the result, or `{ error }` with the refusal's message and status. */
export async function answerJson(reply: FastifyReply, act: () => Promise<object>): Promise<FastifyReply> {
  try {
    return await reply.send(await act())
  } catch (err) {
    if (!(err instanceof Refusal)) throw err
    return reply.code(err.status).send({ error: err.message })
  }
}
