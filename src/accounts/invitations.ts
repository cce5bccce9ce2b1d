import { randomUUID } from 'node:crypto'
import type { ActivityLog } from '../activity/recorder.js'
import { hashSecret, randomSecret } from '../crypto/random.js'
import type { Db } from '../db/connection.js'
import { isUniqueViolation } from '../db/errors.js'
import {
  findInvitationByForm,
  findInvitationByToken,
  findOpenInvitationTo,
  findTeamInvitation,
  insertInvitation,
  listOpenInvitations,
  markInvitationAccepted,
  markInvitationCancelled,
  renewInvitation,
  setInvitationFormToken,
  type InvitationRow,
} from '../db/invitations.js'
import { findMembership, findTeamById, upsertMembership } from '../db/teams.js'
import { findUserByEmail, insertUser, normalizeEmail } from '../db/users.js'
import type { MailQueue } from '../mail/outbox.js'
import { invitationMail } from '../mail/templates.js'
import { Refusal } from '../messages.js'
import { hashPassword } from './passwords.js'
import type { Role, Team, User } from './types.js'
import { checkNewAccount, EMAIL } from './users.js'

/** How long an invitation link works. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000
/** How long the form a link was exchanged for stays open. */
const FORM_TTL_MS = 30 * 60_000

/** What inviting needs: the database, the log, the outbox and the public address links start with. */
export interface InvitationDeps {
  db: Db
  activity: ActivityLog
  mail: MailQueue
  issuer: string
  clock: () => number
}

export interface Invitation extends InvitationRow {
  expired: boolean
}

/** Who acted, for the activity log: the person (none from the command line) and their network address. */
export interface Actor {
  user: User | null
  address: string | null
}

/** A new link: the invitation, its link, and whether it went out by mail. */
export interface SentInvitation {
  invitation: Invitation
  team: Team
  link: string
  mailed: boolean
}

function withState(row: InvitationRow, now: number): Invitation {
  return { ...row, expired: row.expiresAt <= now }
}

function linkFor(issuer: string, token: string): string {
  return `${issuer}/invitations/${token}`
}

async function send(deps: InvitationDeps, team: Team, row: InvitationRow, token: string, by: Actor): Promise<SentInvitation> {
  const link = linkFor(deps.issuer, token)
  const mailed = deps.mail.canSend
  if (mailed) {
    await deps.mail.queue({
      to: row.email,
      kind: 'invitation',
      teamId: team.id,
      userId: by.user?.id ?? null,
      ...invitationMail(deps.mail.productName, team.name, by.user?.name, row.role, link, INVITATION_TTL_MS / 86_400_000),
    })
  }
  return { invitation: withState(row, deps.clock()), team, link, mailed }
}

/** Invites an address to the team with a role; the link is mailed when mail can be sent. */
export async function invite(deps: InvitationDeps, teamId: number, email: string, role: Role, by: Actor): Promise<SentInvitation> {
  const address = email.trim()
  if (!EMAIL.test(address) || address.length > 254) throw new Refusal('email_invalid')
  const now = deps.clock()
  const token = randomSecret(32)
  const { team, row } = await deps.db.kysely.transaction().execute(async (trx) => {
    const team = await findTeamById(trx, teamId)
    if (!team) throw new Refusal('team_not_found', 404)
    const user = await findUserByEmail(trx, address)
    if (user && (await findMembership(trx, team.id, user.id))) throw new Refusal('already_member', 409)
    if (await findOpenInvitationTo(trx, team.id, address)) throw new Refusal('already_invited', 409)
    const row: InvitationRow = {
      id: randomUUID(),
      teamId: team.id,
      email: address,
      role,
      invitedBy: by.user?.id ?? null,
      createdAt: now,
      expiresAt: now + INVITATION_TTL_MS,
      acceptedAt: null,
      cancelledAt: null,
    }
    await insertInvitation(trx, { ...row, tokenHash: hashSecret(token), now })
    return { team, row }
  })
  deps.activity.record({ action: 'member.invited', teamId: team.id, userId: by.user?.id ?? null, detail: `${address} as ${role}`, address: by.address })
  return send(deps, team, row, token, by)
}

/** A new link for an open invitation, valid 7 days from now; the earlier link stops working. */
export async function resendInvitation(deps: InvitationDeps, teamId: number, id: string, by: Actor): Promise<SentInvitation> {
  const now = deps.clock()
  const token = randomSecret(32)
  const row = await findTeamInvitation(deps.db.kysely, teamId, id)
  const team = await findTeamById(deps.db.kysely, teamId)
  if (!row || !team || !(await renewInvitation(deps.db.kysely, teamId, id, hashSecret(token), now, now + INVITATION_TTL_MS))) {
    throw new Refusal('invitation_not_found', 404)
  }
  deps.activity.record({ action: 'member.invited', teamId, userId: by.user?.id ?? null, detail: `${row.email} as ${row.role}, again`, address: by.address })
  return send(deps, team, { ...row, createdAt: now, expiresAt: now + INVITATION_TTL_MS }, token, by)
}

export async function cancelInvitation(deps: InvitationDeps, teamId: number, id: string, by: Actor): Promise<Invitation> {
  const row = await findTeamInvitation(deps.db.kysely, teamId, id)
  if (!row || !(await markInvitationCancelled(deps.db.kysely, id, deps.clock()))) throw new Refusal('invitation_not_found', 404)
  deps.activity.record({ action: 'invitation.cancelled', teamId, userId: by.user?.id ?? null, detail: row.email, address: by.address })
  return withState(row, deps.clock())
}

export async function openInvitations(db: Db, teamId: number, now: number): Promise<Invitation[]> {
  return (await listOpenInvitations(db.kysely, teamId)).map((row) => withState(row, now))
}

/** Why a link or its form no longer leads anywhere: each says so in its own words. */
function usable(row: InvitationRow | undefined, now: number): InvitationRow {
  if (!row) throw new Refusal('invitation_invalid', 404)
  if (row.acceptedAt !== null) throw new Refusal('invitation_used', 410)
  if (row.cancelledAt !== null) throw new Refusal('invitation_cancelled', 410)
  if (row.expiresAt <= now) throw new Refusal('invitation_expired', 410)
  return row
}

/**
 * Exchanges the token of a mailed link for a short-lived form token, so the
 * link's token leaves the address bar and the history before anything is
 * filled in; a later view of the same link replaces the form token.
 */
export async function exchangeInvitationLink(db: Db, token: string, now: number): Promise<string> {
  const row = usable(await findInvitationByToken(db.kysely, hashSecret(token)), now)
  const formToken = randomSecret(32)
  await setInvitationFormToken(db.kysely, row.id, hashSecret(formToken), now + FORM_TTL_MS)
  return formToken
}

/** The invitation a form token stands for, with its team and whether its address has an account already. */
export interface OpenedInvitation {
  invitation: Invitation
  team: Team
  hasAccount: boolean
}

export async function openedInvitation(db: Db, formToken: string, now: number): Promise<OpenedInvitation> {
  const row = usable(await findInvitationByForm(db.kysely, hashSecret(formToken), now), now)
  const team = await findTeamById(db.kysely, row.teamId)
  if (!team) throw new Refusal('invitation_invalid', 404)
  return { invitation: withState(row, now), team, hasAccount: (await findUserByEmail(db.kysely, row.email)) !== undefined }
}

function accepted(deps: Pick<InvitationDeps, 'activity'>, row: InvitationRow, user: User, address: string | null): void {
  deps.activity.record({ action: 'invitation.accepted', teamId: row.teamId, userId: user.id, detail: `${row.email} as ${row.role}`, address })
}

/** The logged-in user joins: only with the address the invitation was sent to. */
export async function acceptAsUser(deps: InvitationDeps, formToken: string, user: User, address: string | null): Promise<Team> {
  const now = deps.clock()
  const { row, team } = await deps.db.kysely.transaction().execute(async (trx) => {
    const row = usable(await findInvitationByForm(trx, hashSecret(formToken), now), now)
    if (normalizeEmail(row.email) !== normalizeEmail(user.email)) throw new Refusal('invitation_other_address', 403)
    const team = await findTeamById(trx, row.teamId)
    if (!team || !(await markInvitationAccepted(trx, row.id, now))) throw new Refusal('invitation_used', 410)
    // An owner already keeps being owner: an invitation never demotes.
    const membership = await findMembership(trx, team.id, user.id)
    if (membership?.role !== 'owner') await upsertMembership(trx, team.id, user.id, row.role, now)
    return { row, team }
  })
  accepted(deps, row, user, address)
  return team
}

/**
 * Someone without an account sets a name and a password and joins; the
 * address counts as verified, since the link reached it.
 */
export async function acceptAsNewUser(
  deps: InvitationDeps,
  formToken: string,
  input: { name: string; password: string },
  address: string | null,
): Promise<{ user: User; team: Team }> {
  const now = deps.clock()
  const opened = usable(await findInvitationByForm(deps.db.kysely, hashSecret(formToken), now), now)
  await checkNewAccount({ email: opened.email, name: input.name, password: input.password })
  const passwordHash = await hashPassword(input.password)
  try {
    const { row, user, team } = await deps.db.kysely.transaction().execute(async (trx) => {
      const row = usable(await findInvitationByForm(trx, hashSecret(formToken), now), now)
      const team = await findTeamById(trx, row.teamId)
      if (!team || !(await markInvitationAccepted(trx, row.id, now))) throw new Refusal('invitation_used', 410)
      const user = await insertUser(trx, { email: row.email, name: input.name.trim(), passwordHash, isVerified: true, now })
      await upsertMembership(trx, team.id, user.id, row.role, now)
      return { row, user, team }
    })
    accepted(deps, row, user, address)
    return { user, team }
  } catch (err) {
    // The address got an account in the meantime: it logs in to accept.
    if (isUniqueViolation(err)) throw new Refusal('email_taken', 409)
    throw err
  }
}
