import type { FastifyRequest } from 'fastify'
import type { ActivityEvent } from '../../activity/types.js'
import type { AppContext } from '../../context.js'

/** What the domain reports an admin call did goes in the log as done with the admin token. */
export function recordAsAdmin(ctx: AppContext, request: FastifyRequest, events: ActivityEvent[]): void {
  for (const event of events) ctx.activity.record({ ...event, adminTokenId: request.adminToken?.id ?? null, address: event.address ?? request.ip })
}
