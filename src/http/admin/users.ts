import type { FastifyInstance } from 'fastify'
import { resetFactorsByOperator } from '../../accounts/factors.js'
import { operatorResetLink } from '../../accounts/password-reset.js'
import { endSessionOfUser, signedInSessions } from '../../accounts/sessions.js'
import { createUser, renameUser, requireUserById, setDisabled, usersAfter } from '../../accounts/users.js'
import { listMembershipsOfUser } from '../../db/teams.js'
import type { AppContext } from '../../context.js'
import { Refusal } from '../../messages.js'
import { revokeTeamApp, teamApps } from '../../oauth/team-apps.js'
import { deletePersonalAccessToken, personalAccessTokensOf } from '../../tokens/personal-access-tokens.js'
import { checkIfMatch, etagOf, sendWithEtag } from './etag.js'
import {
  grantJson,
  grantSchema,
  personalAccessTokenJson,
  personalAccessTokenSchema,
  sessionJson,
  sessionSchema,
  userJson,
  userSchema,
} from './representations.js'
import { recordAsAdmin } from './record.js'
import { idParam, listOf, listQuery, numericCursor, object, pageAfter, pageOf, params, problems, timestamp } from './schemas.js'

const userEtag = (user: { id: number; updatedAt: Date }) => etagOf('user', user.id, user.updatedAt)

const userIdParams = params({ id: idParam })

const revokedSchema = object({ grants: { type: 'integer' }, personal_access_tokens: { type: 'integer' } })

interface UserParams {
  id: number
}

/** Users, and what each holds: app authorisations (grants), personal access tokens and sessions. */
export function userRoutes(admin: FastifyInstance, ctx: AppContext): void {
  admin.get<{ Querystring: { cursor?: string; limit: number; email?: string; disabled?: boolean } }>(
    '/users',
    {
      schema: {
        summary: 'List users',
        tags: ['users'],
        querystring: listQuery({
          email: { type: 'string', maxLength: 254, description: 'Only the user with this address (any letter case).' },
          disabled: { type: 'boolean', description: 'Only disabled (true) or enabled (false) users.' },
        }),
        response: { 200: listOf(userSchema), ...problems },
      },
    },
    async (request) => {
      const { cursor, limit, email, disabled } = request.query
      const users = await usersAfter(ctx.db, { afterId: numericCursor(cursor), limit: limit + 1, email, disabled })
      return pageOf(users, limit, (u) => String(u.id), userJson)
    },
  )

  admin.post<{ Body: { email: string; name: string; password: string; team?: string; is_verified?: boolean } }>(
    '/users',
    {
      schema: {
        summary: 'Create a user',
        tags: ['users'],
        body: object(
          {
            email: { type: 'string', maxLength: 254 },
            name: { type: 'string', maxLength: 200 },
            password: { type: 'string', maxLength: 1024 },
            team: { type: 'string', maxLength: 200, description: 'A team the user becomes owner of; made when no team has this name.' },
            is_verified: { type: 'boolean', default: false, description: 'The operator vouches for the address.' },
          },
          ['team', 'is_verified'],
        ),
        response: { 201: userSchema, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body
      const { user } = await createUser(
        ctx.db,
        { email: body.email, name: body.name, password: body.password, teamName: body.team, isVerified: body.is_verified === true },
        ctx.clock(),
      )
      reply.code(201).header('Location', `${request.url.split('?')[0]}/${user.id}`)
      return sendWithEtag(reply, userEtag(user), userJson(user))
    },
  )

  admin.get<{ Params: UserParams }>(
    '/users/:id',
    { schema: { summary: 'Get a user', tags: ['users'], params: userIdParams, response: { 200: userSchema, ...problems } } },
    async (request, reply) => {
      const user = await requireUserById(ctx.db, request.params.id)
      return sendWithEtag(reply, userEtag(user), userJson(user))
    },
  )

  admin.patch<{ Params: UserParams; Body: { name?: string } }>(
    '/users/:id',
    {
      schema: {
        summary: 'Change a user',
        description: 'Send If-Match with the ETag of the user as read: a user changed since is refused with 412. Without If-Match, the last write wins.',
        tags: ['users'],
        params: userIdParams,
        body: object({ name: { type: 'string', maxLength: 200 } }, ['name']),
        response: { 200: userSchema, ...problems },
      },
    },
    async (request, reply) => {
      let user = await requireUserById(ctx.db, request.params.id)
      checkIfMatch(request, userEtag(user))
      if (request.body.name !== undefined) user = await renameUser(ctx.db, user.id, request.body.name, ctx.clock())
      return sendWithEtag(reply, userEtag(user), userJson(user))
    },
  )

  admin.post<{ Params: UserParams }>(
    '/users/:id/disable',
    {
      schema: {
        summary: 'Disable a user',
        description: 'Ends the sessions of the user and revokes every app authorisation and personal access token, for good.',
        tags: ['users'],
        params: userIdParams,
        response: { 200: object({ user: userSchema, revoked: revokedSchema }), ...problems },
      },
    },
    async (request) => {
      const user = await requireUserById(ctx.db, request.params.id)
      const result = await setDisabled(ctx.db, user.email, true, ctx.clock(), (ended) => ctx.backchannel.sessionsEnded(ended))
      recordAsAdmin(ctx, request, result.activity)
      return { user: userJson(result.user), revoked: { grants: result.revoked.grants, personal_access_tokens: result.revoked.personalAccessTokens } }
    },
  )

  admin.post<{ Params: UserParams }>(
    '/users/:id/enable',
    { schema: { summary: 'Enable a user', tags: ['users'], params: userIdParams, response: { 200: userSchema, ...problems } } },
    async (request) => {
      const user = await requireUserById(ctx.db, request.params.id)
      return userJson((await setDisabled(ctx.db, user.email, false, ctx.clock())).user)
    },
  )

  admin.post<{ Params: UserParams }>(
    '/users/:id/mfa-reset',
    {
      schema: {
        summary: "Remove every one of a user's second factors",
        description: 'For a user who lost them: authenticator apps, passkeys and recovery codes all go, and the user is told by mail.',
        tags: ['users'],
        params: userIdParams,
        response: { 200: object({ user: userSchema, removed: { type: 'integer' } }), ...problems },
      },
    },
    async (request) => {
      const found = await requireUserById(ctx.db, request.params.id)
      const { user, removed } = await resetFactorsByOperator(ctx, found.email)
      return { user: userJson(user), removed }
    },
  )

  admin.post<{ Params: UserParams }>(
    '/users/:id/reset-link',
    {
      schema: {
        summary: 'Make a password reset link',
        description: 'A one-time link for the operator to hand to the user; it is not mailed.',
        tags: ['users'],
        params: userIdParams,
        response: {
          200: object({
            object: { type: 'string', enum: ['reset_link'] },
            user_id: { type: 'integer' },
            reset_link: { type: 'string' },
            expires_at: timestamp,
          }),
          ...problems,
        },
      },
    },
    async (request) => {
      const user = await requireUserById(ctx.db, request.params.id)
      const { link, expiresAt } = await operatorResetLink(ctx, user.email)
      return { object: 'reset_link' as const, user_id: user.id, reset_link: link, expires_at: expiresAt.toISOString() }
    },
  )

  admin.get<{ Params: UserParams; Querystring: { cursor?: string; limit: number } }>(
    '/users/:id/grants',
    {
      schema: {
        summary: "List a user's app authorisations",
        tags: ['users'],
        params: userIdParams,
        querystring: listQuery(),
        response: { 200: listOf(grantSchema), ...problems },
      },
    },
    async (request) => {
      const user = await requireUserById(ctx.db, request.params.id)
      const grants = []
      for (const { team } of await listMembershipsOfUser(ctx.db.kysely, user.id))
        for (const app of await teamApps(ctx.db, team.id)) if (app.authorisedBy.userId === user.id) grants.push({ teamId: team.id, app })
      return pageAfter(
        grants,
        request.query.cursor,
        request.query.limit,
        (g) => `${String(g.teamId).padStart(16, '0')}:${g.app.clientId}`,
        (g) => grantJson(user.id, g.teamId, g.app),
      )
    },
  )

  admin.delete<{ Params: UserParams & { client_id: string } }>(
    '/users/:id/grants/:client_id',
    {
      schema: {
        summary: "Revoke a user's authorisation of an app",
        description: 'In every team of the user: the grants and every token descending from them end at once.',
        tags: ['users'],
        params: params({ id: idParam, client_id: { type: 'string', minLength: 1, maxLength: 2000 } }),
        response: { 204: { type: 'null', description: 'Revoked.' }, ...problems },
      },
    },
    async (request, reply) => {
      const user = await requireUserById(ctx.db, request.params.id)
      const clientId = request.params.client_id
      let revoked = 0
      for (const { team } of await listMembershipsOfUser(ctx.db.kysely, user.id)) {
        if (!(await teamApps(ctx.db, team.id)).some((a) => a.clientId === clientId && a.authorisedBy.userId === user.id)) continue
        await revokeTeamApp(ctx.db, ctx.activity, { clientId, teamId: team.id, by: { userId: user.id, role: 'member' }, address: request.ip }, ctx.clock())
        revoked++
      }
      if (revoked === 0) throw new Refusal('team_app_not_found', 404)
      return reply.code(204).send()
    },
  )

  admin.get<{ Params: UserParams; Querystring: { cursor?: string; limit: number } }>(
    '/users/:id/personal-access-tokens',
    {
      schema: {
        summary: "List a user's personal access tokens",
        tags: ['users'],
        params: userIdParams,
        querystring: listQuery(),
        response: { 200: listOf(personalAccessTokenSchema), ...problems },
      },
    },
    async (request) => {
      const user = await requireUserById(ctx.db, request.params.id)
      const tokens = []
      for (const { team } of await listMembershipsOfUser(ctx.db.kysely, user.id)) tokens.push(...(await personalAccessTokensOf(ctx.db, user.id, team.id)))
      return pageAfter(tokens, request.query.cursor, request.query.limit, (t) => t.id, personalAccessTokenJson)
    },
  )

  admin.delete<{ Params: UserParams & { token_id: string } }>(
    '/users/:id/personal-access-tokens/:token_id',
    {
      schema: {
        summary: "Revoke a user's personal access token",
        tags: ['users'],
        params: params({ id: idParam, token_id: { type: 'string', minLength: 1, maxLength: 100 } }),
        response: { 204: { type: 'null', description: 'Revoked.' }, ...problems },
      },
    },
    async (request, reply) => {
      const user = await requireUserById(ctx.db, request.params.id)
      const deleted = await deletePersonalAccessToken(ctx.db, request.params.token_id, user.id)
      recordAsAdmin(ctx, request, [
        { action: 'personal_access_token.deleted', teamId: deleted.teamId, userId: user.id, personalAccessTokenId: deleted.id, detail: deleted.name },
      ])
      return reply.code(204).send()
    },
  )

  admin.get<{ Params: UserParams; Querystring: { cursor?: string; limit: number } }>(
    '/users/:id/sessions',
    {
      schema: {
        summary: "List a user's sessions",
        tags: ['users'],
        params: userIdParams,
        querystring: listQuery(),
        response: { 200: listOf(sessionSchema), ...problems },
      },
    },
    async (request) => {
      const user = await requireUserById(ctx.db, request.params.id)
      const sessions = await signedInSessions(ctx.db, user.id, ctx.clock())
      return pageAfter(
        sessions,
        request.query.cursor,
        request.query.limit,
        (s) => s.sid,
        (s) => sessionJson(user.id, s),
      )
    },
  )

  admin.delete<{ Params: UserParams & { sid: string } }>(
    '/users/:id/sessions/:sid',
    {
      schema: {
        summary: "End a user's session",
        description: 'Apps the session signed in to that listen for it are told (back-channel logout).',
        tags: ['users'],
        params: params({ id: idParam, sid: { type: 'string', minLength: 1, maxLength: 200 } }),
        response: { 204: { type: 'null', description: 'Ended.' }, ...problems },
      },
    },
    async (request, reply) => {
      const user = await requireUserById(ctx.db, request.params.id)
      const ended = await endSessionOfUser(ctx.db, user.id, request.params.sid)
      if (!ended) throw new Refusal('session_not_found', 404)
      ctx.backchannel.sessionsEnded([ended])
      return reply.code(204).send()
    },
  )
}
