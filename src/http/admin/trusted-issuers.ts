import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../../context.js'
import { findTrustedIssuerById, listTrustedIssuers } from '../../db/trusted-issuers.js'
import { Refusal } from '../../messages.js'
import { addTrustedIssuer, removeTrustedIssuer } from '../../oauth/trusted-issuers.js'
import { recordAsAdmin } from './record.js'
import { trustedIssuerJson, trustedIssuerSchema } from './representations.js'
import { idParam, listOf, listQuery, numericCursor, object, pageOf, params, problems } from './schemas.js'

const trustedIssuerParams = params({ id: idParam })
const url = { type: 'string', minLength: 1, maxLength: 2000 } as const

interface TrustedIssuerParams {
  id: number
}

/** Identity providers whose signed assertions a team's members may exchange for tokens (RFC 7523), as the command line manages them. */
export function trustedIssuerRoutes(admin: FastifyInstance, ctx: AppContext): void {
  admin.get<{ Querystring: { cursor?: string; limit: number; team_id?: number } }>(
    '/trusted-issuers',
    {
      schema: {
        summary: 'List trusted issuers',
        tags: ['trusted-issuers'],
        querystring: listQuery({ team_id: idParam }),
        response: { 200: listOf(trustedIssuerSchema), ...problems },
      },
    },
    async (request) => {
      const { cursor, limit, team_id: teamId } = request.query
      const found = await listTrustedIssuers(ctx.db.kysely, { teamId, afterId: numericCursor(cursor), limit: limit + 1 })
      return pageOf(found, limit, (t) => String(t.id), trustedIssuerJson)
    },
  )

  admin.post<{ Body: { issuer: string; jwks_uri: string; team_id: number } }>(
    '/trusted-issuers',
    {
      schema: {
        summary: 'Trust an identity provider for a team',
        description: 'The issuer is an https URL; jwks_uri an https URL, on an internal host only if GATEHOUSE_OUTBOUND_ALLOWED_HOSTS lists it.',
        tags: ['trusted-issuers'],
        body: object({ issuer: url, jwks_uri: url, team_id: idParam }),
        response: { 201: trustedIssuerSchema, ...problems },
      },
    },
    async (request, reply) => {
      const { issuer, jwks_uri: jwksUri, team_id: teamId } = request.body
      const trusted = await addTrustedIssuer(ctx.db, { issuer, jwksUri, teamId }, ctx.clock())
      recordAsAdmin(ctx, request, [{ action: 'trusted_issuer.added', teamId: trusted.teamId, detail: `${trusted.id} ${trusted.issuer}` }])
      reply.code(201).header('Location', `${request.url.split('?')[0]}/${trusted.id}`)
      return trustedIssuerJson(trusted)
    },
  )

  admin.get<{ Params: TrustedIssuerParams }>(
    '/trusted-issuers/:id',
    {
      schema: {
        summary: 'Get a trusted issuer',
        tags: ['trusted-issuers'],
        params: trustedIssuerParams,
        response: { 200: trustedIssuerSchema, ...problems },
      },
    },
    async (request) => {
      const trusted = await findTrustedIssuerById(ctx.db.kysely, request.params.id)
      if (!trusted) throw new Refusal('trusted_issuer_not_found', 404)
      return trustedIssuerJson(trusted)
    },
  )

  admin.delete<{ Params: TrustedIssuerParams }>(
    '/trusted-issuers/:id',
    {
      schema: {
        summary: 'Delete a trusted issuer',
        description: 'Its assertions are refused from now on; tokens already issued for them stay until they expire.',
        tags: ['trusted-issuers'],
        params: trustedIssuerParams,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problems },
      },
    },
    async (request, reply) => {
      const trusted = await findTrustedIssuerById(ctx.db.kysely, request.params.id)
      if (!trusted) throw new Refusal('trusted_issuer_not_found', 404)
      await removeTrustedIssuer(ctx.db, trusted.id)
      recordAsAdmin(ctx, request, [{ action: 'trusted_issuer.deleted', teamId: trusted.teamId, detail: `${trusted.id} ${trusted.issuer}` }])
      return reply.code(204).send()
    },
  )
}
