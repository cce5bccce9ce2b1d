import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'
import { isSchemaCurrent } from '../db/migrate.js'

/** A balancer's readiness check gives up after a few seconds too: a database that does not answer in this long is taken for away. */
const READINESS_BOUND_MS = 2000

/** The check's answer, or a failure once `ms` have passed without one. */
async function answeredWithin<T>(check: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([check, late])
  } finally {
    clearTimeout(timer)
  }
}

/** For load balancers: `/healthz` says the process answers, `/readyz` that it can serve (database reachable and writable, schema current). */
export function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => reply.header('Cache-Control', 'no-store').send({ status: 'ok' }))

  app.get('/readyz', { logLevel: 'warn' }, async (request, reply) => {
    reply.header('Cache-Control', 'no-store')
    try {
      if (!(await answeredWithin(isSchemaCurrent(ctx.db), READINESS_BOUND_MS)))
        return reply.code(503).send({ status: 'not_ready', reason: 'database migrations are pending' })
      // A full disk fails every write while reads still answer: a balancer should send the traffic elsewhere.
      if (ctx.db.writable && !(await ctx.db.writable())) return reply.code(503).send({ status: 'not_ready', reason: 'database writes are failing' })
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed')
      return reply.code(503).send({ status: 'not_ready', reason: 'database unreachable' })
    }
    return { status: 'ready' }
  })
}
