import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'
import type { Db } from '../db/connection.js'
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

/** Whether the database can serve: reachable and writable, schema current. Shared with the management listener. */
export async function readiness(db: Db): Promise<{ ready: true } | { ready: false; reason: string; err?: unknown }> {
  try {
    if (!(await answeredWithin(isSchemaCurrent(db), READINESS_BOUND_MS))) return { ready: false, reason: 'database migrations are pending' }
    // A full disk fails every write while reads still answer: a balancer should send the traffic elsewhere.
    if (db.writable && !(await db.writable())) return { ready: false, reason: 'database writes are failing' }
  } catch (err) {
    return { ready: false, reason: 'database unreachable', err }
  }
  return { ready: true }
}

/** For load balancers: `/healthz` says the process answers, `/readyz` that it can serve (database reachable and writable, schema current). */
export function healthRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => reply.header('Cache-Control', 'no-store').send({ status: 'ok' }))

  app.get('/readyz', { logLevel: 'warn' }, async (request, reply) => {
    reply.header('Cache-Control', 'no-store')
    const state = await readiness(ctx.db)
    if (state.ready) return { status: 'ready' }
    if (state.err !== undefined) request.log.warn({ err: state.err }, 'readiness check failed')
    return reply.code(503).send({ status: 'not_ready', reason: state.reason })
  })
}
