import type { FastifyInstance } from 'fastify'
import { cancelInvitation, invite, openInvitations } from '../../accounts/invitations.js'
import { changeRoleByOperator, roleIn, removeByOperator } from '../../accounts/members.js'
import { addMember, allTeams, createTeam, membersOf, renameTeam, requireTeam } from '../../accounts/teams.js'
import type { Role } from '../../accounts/types.js'
import { requireUserById } from '../../accounts/users.js'
import type { AppContext } from '../../context.js'
import { Refusal } from '../../messages.js'
import { checkIfMatch, etagOf, sendWithEtag } from './etag.js'
import { recordAsAdmin } from './record.js'
import { invitationJson, invitationSchema, memberJson, memberSchema, teamJson, teamSchema, userJson, userSchema } from './representations.js'
import { idParam, listOf, listQuery, numericKey, object, pageAfter, params, problems } from './schemas.js'

const teamEtag = (team: { id: number; updatedAt: Date }) => etagOf('team', team.id, team.updatedAt)
const teamIdParams = params({ id: idParam })
const role = { type: 'string', enum: ['owner', 'member'] } as const
const revokedSchema = object({ grants: { type: 'integer' }, personal_access_tokens: { type: 'integer' } })

interface TeamParams {
  id: number
}

/** Teams, their members and their invitations. */
export function teamRoutes(admin: FastifyInstance, ctx: AppContext): void {
  const invitationDeps = { db: ctx.db, activity: ctx.activity, mail: ctx.mail, issuer: ctx.config.issuer, clock: ctx.clock }

  admin.get<{ Querystring: { cursor?: string; limit: number; name?: string } }>(
    '/teams',
    {
      schema: {
        summary: 'List teams',
        tags: ['teams'],
        querystring: listQuery({ name: { type: 'string', maxLength: 200, description: 'Only the team with this name.' } }),
        response: { 200: listOf(teamSchema), ...problems },
      },
    },
    async (request) => {
      const { cursor, limit, name } = request.query
      const teams = (await allTeams(ctx.db)).map((t) => t.team).filter((t) => name === undefined || t.name === name.trim())
      return pageAfter(teams, cursor, limit, (t) => numericKey(t.id), teamJson)
    },
  )

  admin.post<{ Body: { name: string; owner_id: number } }>(
    '/teams',
    {
      schema: {
        summary: 'Create a team',
        tags: ['teams'],
        body: object({ name: { type: 'string', maxLength: 200 }, owner_id: { ...idParam, description: 'The user who becomes its first owner.' } }),
        response: { 201: teamSchema, ...problems },
      },
    },
    async (request, reply) => {
      const owner = await requireUserById(ctx.db, request.body.owner_id)
      const team = await createTeam(ctx.db, request.body.name, owner.id, ctx.clock())
      recordAsAdmin(ctx, request, [{ action: 'team.created', teamId: team.id, userId: owner.id, detail: team.name }])
      reply.code(201).header('Location', `${request.url.split('?')[0]}/${team.id}`)
      return sendWithEtag(reply, teamEtag(team), teamJson(team))
    },
  )

  admin.get<{ Params: TeamParams }>(
    '/teams/:id',
    { schema: { summary: 'Get a team', tags: ['teams'], params: teamIdParams, response: { 200: teamSchema, ...problems } } },
    async (request, reply) => {
      const team = await requireTeam(ctx.db, request.params.id)
      return sendWithEtag(reply, teamEtag(team), teamJson(team))
    },
  )

  admin.patch<{ Params: TeamParams; Body: { name?: string } }>(
    '/teams/:id',
    {
      schema: {
        summary: 'Rename a team',
        description: 'Send If-Match with the ETag of the team as read: a team changed since is refused with 412. Without If-Match, the last write wins.',
        tags: ['teams'],
        params: teamIdParams,
        body: object({ name: { type: 'string', maxLength: 200 } }, ['name']),
        response: { 200: teamSchema, ...problems },
      },
    },
    async (request, reply) => {
      let team = await requireTeam(ctx.db, request.params.id)
      checkIfMatch(request, teamEtag(team))
      if (request.body.name !== undefined) team = await renameTeam(ctx.db, team.id, request.body.name, ctx.clock())
      return sendWithEtag(reply, teamEtag(team), teamJson(team))
    },
  )

  admin.get<{ Params: TeamParams; Querystring: { cursor?: string; limit: number } }>(
    '/teams/:id/members',
    {
      schema: {
        summary: "List a team's members",
        tags: ['teams'],
        params: teamIdParams,
        querystring: listQuery(),
        response: { 200: listOf(memberSchema), ...problems },
      },
    },
    async (request) => {
      const team = await requireTeam(ctx.db, request.params.id)
      const members = await membersOf(ctx.db, team.id)
      return pageAfter(
        members,
        request.query.cursor,
        request.query.limit,
        (m) => numericKey(m.user.id),
        (m) => memberJson(team.id, m.user, m.role),
      )
    },
  )

  admin.post<{ Params: TeamParams; Body: { user_id: number; role?: Role } }>(
    '/teams/:id/members',
    {
      schema: {
        summary: 'Add a user to a team',
        tags: ['teams'],
        params: teamIdParams,
        body: object({ user_id: idParam, role: { ...role, default: 'member' } }, ['role']),
        response: { 201: memberSchema, ...problems },
      },
    },
    async (request, reply) => {
      const team = await requireTeam(ctx.db, request.params.id)
      const user = await requireUserById(ctx.db, request.body.user_id)
      if (await roleIn(ctx.db.kysely, team.id, user.id)) throw new Refusal('already_member', 409)
      const added = await addMember(ctx.db, team.name, user.email, request.body.role ?? 'member', ctx.clock())
      reply.code(201).header('Location', `${request.url.split('?')[0]}/${user.id}`)
      return memberJson(team.id, added.user, added.role)
    },
  )

  admin.patch<{ Params: TeamParams & { user_id: number }; Body: { role: Role } }>(
    '/teams/:id/members/:user_id',
    {
      schema: {
        summary: "Change a member's role",
        description: 'The last owner of a team cannot be made a member.',
        tags: ['teams'],
        params: params({ id: idParam, user_id: idParam }),
        body: object({ role }),
        response: { 200: memberSchema, ...problems },
      },
    },
    async (request) => {
      const team = await requireTeam(ctx.db, request.params.id)
      const { user, activity } = await changeRoleByOperator(ctx.db, team.id, request.params.user_id, request.body.role)
      recordAsAdmin(ctx, request, activity)
      return memberJson(team.id, user, request.body.role)
    },
  )

  admin.delete<{ Params: TeamParams & { user_id: number } }>(
    '/teams/:id/members/:user_id',
    {
      schema: {
        summary: 'Remove a member from a team',
        description: 'Every app authorisation and personal access token the member held in the team ends. The last owner cannot be removed.',
        tags: ['teams'],
        params: params({ id: idParam, user_id: idParam }),
        response: { 200: object({ user: userSchema, revoked: revokedSchema }), ...problems },
      },
    },
    async (request) => {
      const team = await requireTeam(ctx.db, request.params.id)
      const { user, revoked, activity } = await removeByOperator(ctx.db, team.id, request.params.user_id, ctx.clock())
      recordAsAdmin(ctx, request, activity)
      return { user: userJson(user), revoked: { grants: revoked.grants, personal_access_tokens: revoked.personalAccessTokens } }
    },
  )

  admin.get<{ Params: TeamParams; Querystring: { cursor?: string; limit: number } }>(
    '/teams/:id/invitations',
    {
      schema: {
        summary: "List a team's open invitations",
        tags: ['teams'],
        params: teamIdParams,
        querystring: listQuery(),
        response: { 200: listOf(invitationSchema), ...problems },
      },
    },
    async (request) => {
      const team = await requireTeam(ctx.db, request.params.id)
      const invitations = await openInvitations(ctx.db, team.id, ctx.clock())
      return pageAfter(invitations, request.query.cursor, request.query.limit, (i) => i.id, invitationJson)
    },
  )

  admin.post<{ Params: TeamParams; Body: { email: string; role?: Role } }>(
    '/teams/:id/invitations',
    {
      schema: {
        summary: 'Invite an address to a team',
        description: 'The link is mailed when Gatehouse can send mail, and is in the answer either way.',
        tags: ['teams'],
        params: teamIdParams,
        body: object({ email: { type: 'string', maxLength: 254 }, role: { ...role, default: 'member' } }, ['role']),
        response: { 201: object({ invitation: invitationSchema, link: { type: 'string' }, mailed: { type: 'boolean' } }), ...problems },
      },
    },
    async (request, reply) => {
      const team = await requireTeam(ctx.db, request.params.id)
      const sent = await invite(invitationDeps, team.id, request.body.email, request.body.role ?? 'member', { user: null, address: request.ip })
      reply.code(201)
      return { invitation: invitationJson(sent.invitation), link: sent.link, mailed: sent.mailed }
    },
  )

  admin.delete<{ Params: TeamParams & { invitation_id: string } }>(
    '/teams/:id/invitations/:invitation_id',
    {
      schema: {
        summary: 'Cancel an invitation',
        tags: ['teams'],
        params: params({ id: idParam, invitation_id: { type: 'string', minLength: 1, maxLength: 100 } }),
        response: { 200: invitationSchema, ...problems },
      },
    },
    async (request) => {
      const team = await requireTeam(ctx.db, request.params.id)
      const cancelled = await cancelInvitation(invitationDeps, team.id, request.params.invitation_id, { user: null, address: request.ip })
      return invitationJson({ ...cancelled, cancelledAt: cancelled.cancelledAt ?? ctx.clock() })
    },
  )
}
