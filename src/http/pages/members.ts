import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { cancelInvitation, invite, openInvitations, resendInvitation, type InvitationDeps, type SentInvitation } from '../../accounts/invitations.js'
import { changeRole, leaveTeam, membersWithActivity, removeFromTeam, requireTeamOwner, roleIn } from '../../accounts/members.js'
import { parseRole } from '../../accounts/teams.js'
import type { AppContext } from '../../context.js'
import { BANNERS, CONFIRMATIONS, Refusal } from '../../messages.js'
import { shownTime } from './format.js'
import { sendConfirmPage, sendTeamPage } from './page.js'
import { actOnce, csrfBodySchema, doneBanner, formGuardProperties, idParamsSchema, type FormBody } from './portal.js'
import { teamPages, teamSessionOf, type TeamSession } from './session-guard.js'

interface InviteBody extends FormBody {
  email?: string
  role?: string
}

interface RoleBody extends FormBody {
  role?: string
}

const inviteBodySchema = {
  type: 'object',
  properties: { ...formGuardProperties, email: { type: 'string', maxLength: 320 }, role: { type: 'string', maxLength: 20 } },
} as const

const roleBodySchema = {
  type: 'object',
  properties: { ...formGuardProperties, role: { type: 'string', maxLength: 20 } },
} as const

const userParamsSchema = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } },
  required: ['id'],
} as const

function invitationDeps(ctx: AppContext): InvitationDeps {
  return { db: ctx.db, activity: ctx.activity, mail: ctx.mail, issuer: ctx.config.issuer, clock: ctx.clock }
}

function actor(session: TeamSession, request: FastifyRequest) {
  return { user: session.user, address: request.ip }
}

interface PageState {
  banner?: string
  error?: string
  form?: { email: string; role: string }
  /** An invitation that could not be mailed: its link, shown to the owner this once to pass on. */
  unsent?: SentInvitation
}

async function sendMembersPage(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, state: PageState, status = 200): Promise<FastifyReply> {
  const session = teamSessionOf(request)
  const teamId = session.activeTeam.id
  const now = ctx.clock()
  const [members, role] = await Promise.all([membersWithActivity(ctx.db, teamId), roleIn(ctx.db.kysely, teamId, session.user.id)])
  const isOwner = role === 'owner'
  const owners = members.filter((m) => m.role === 'owner').length
  const invitations = isOwner ? await openInvitations(ctx.db, teamId, now) : []
  return sendTeamPage(
    ctx,
    request,
    reply,
    'members',
    'Members',
    {
      isOwner,
      members: members.map((m) => ({
        id: m.user.id,
        name: m.user.name,
        email: m.user.email,
        role: m.role,
        isYou: m.user.id === session.user.id,
        isBot: m.user.isServiceAccount,
        isLastOwner: m.role === 'owner' && owners === 1,
        joinedAt: shownTime(m.joinedAt),
        lastActiveAt: shownTime(m.lastActiveAt),
        hasTwoFactor: m.hasTwoFactor,
      })),
      invitations: invitations.map((i) => ({ id: i.id, email: i.email, role: i.role, expired: i.expired, expiresAt: shownTime(new Date(i.expiresAt)) })),
      canMail: ctx.mail.canSend,
      form: state.form ?? { email: '', role: 'member' },
      banner: state.banner,
      error: state.error,
      unsent: state.unsent && { email: state.unsent.invitation.email, link: state.unsent.link },
    },
    status,
  )
}

/** Sent by mail: the banner after a redirect; not sent: the page with the link, this once. */
function afterSending(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, sent: SentInvitation, done: 'invited' | 'resent') {
  return sent.mailed ? `/team/members?done=${done}` : sendMembersPage(ctx, request, reply, { unsent: sent })
}

export function memberRoutes(app: FastifyInstance, ctx: AppContext): void {
  teamPages(app, ctx, (pages) => {
    pages.get<{ Querystring: { done?: string } }>('/team/members', async (request, reply) =>
      sendMembersPage(ctx, request, reply, { banner: doneBanner(BANNERS.members, request.query.done) }),
    )

    pages.post<{ Body: InviteBody }>('/team/members/invite', { schema: { body: inviteBodySchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const form = { email: request.body?.email ?? '', role: request.body?.role ?? 'member' }
      return actOnce(ctx, request, reply, '/team/members', async () => {
        await requireTeamOwner(ctx.db, session.activeTeam.id, session.user.id)
        try {
          const sent = await invite(invitationDeps(ctx), session.activeTeam.id, form.email, parseRole(form.role), actor(session, request))
          return await afterSending(ctx, request, reply, sent, 'invited')
        } catch (err) {
          if (!(err instanceof Refusal) || err.status >= 500) throw err
          return sendMembersPage(ctx, request, reply, { form, error: err.message }, err.status)
        }
      })
    })

    pages.post<{ Params: { id: string }; Body: FormBody }>(
      '/team/invitations/:id/resend',
      { schema: { params: idParamsSchema, body: csrfBodySchema } },
      async (request, reply) => {
        const session = teamSessionOf(request)
        return actOnce(ctx, request, reply, '/team/members', async () => {
          await requireTeamOwner(ctx.db, session.activeTeam.id, session.user.id)
          const sent = await resendInvitation(invitationDeps(ctx), session.activeTeam.id, request.params.id, actor(session, request))
          return afterSending(ctx, request, reply, sent, 'resent')
        })
      },
    )

    pages.post<{ Params: { id: string }; Body: FormBody }>(
      '/team/invitations/:id/cancel',
      { schema: { params: idParamsSchema, body: csrfBodySchema } },
      async (request, reply) => {
        const session = teamSessionOf(request)
        return actOnce(ctx, request, reply, '/team/members', async () => {
          await requireTeamOwner(ctx.db, session.activeTeam.id, session.user.id)
          await cancelInvitation(invitationDeps(ctx), session.activeTeam.id, request.params.id, actor(session, request))
          return '/team/members?done=cancelled'
        })
      },
    )

    pages.post<{ Params: { id: string }; Body: RoleBody }>(
      '/team/members/:id/role',
      { schema: { params: userParamsSchema, body: roleBodySchema } },
      async (request, reply) => {
        const session = teamSessionOf(request)
        return actOnce(ctx, request, reply, '/team/members', async () => {
          await changeRole(ctx.db, ctx.activity, session.activeTeam.id, Number(request.params.id), parseRole(request.body?.role), actor(session, request))
          return '/team/members?done=role_changed'
        })
      },
    )

    pages.get<{ Params: { id: string } }>('/team/members/:id/remove', { schema: { params: userParamsSchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      const members = await membersWithActivity(ctx.db, session.activeTeam.id)
      const member = members.find((m) => m.user.id === Number(request.params.id))
      if (!member) throw new Refusal('user_not_member', 404)
      return sendConfirmPage(
        ctx,
        request,
        reply,
        CONFIRMATIONS.removeMember,
        { name: member.user.name, team: session.activeTeam.name },
        { action: `/team/members/${member.user.id}/remove`, cancel: '/team/members' },
      )
    })

    pages.post<{ Params: { id: string }; Body: FormBody }>(
      '/team/members/:id/remove',
      { schema: { params: userParamsSchema, body: csrfBodySchema } },
      async (request, reply) => {
        const session = teamSessionOf(request)
        return actOnce(ctx, request, reply, '/team/members', async () => {
          await removeFromTeam(ctx.db, ctx.activity, session.activeTeam.id, Number(request.params.id), actor(session, request), ctx.clock())
          return '/team/members?done=removed'
        })
      },
    )

    pages.get('/team/leave', async (request, reply) => {
      const session = teamSessionOf(request)
      return sendConfirmPage(
        ctx,
        request,
        reply,
        CONFIRMATIONS.leaveTeam,
        { team: session.activeTeam.name },
        { action: '/team/leave', cancel: '/team/members' },
      )
    })

    pages.post<{ Body: FormBody }>('/team/leave', { schema: { body: csrfBodySchema } }, async (request, reply) => {
      const session = teamSessionOf(request)
      return actOnce(ctx, request, reply, '/', async () => {
        await leaveTeam(ctx.db, ctx.activity, session.activeTeam.id, actor(session, request), ctx.clock())
        return '/'
      })
    })
  })
}
