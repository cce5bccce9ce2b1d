import type { Selectable } from 'kysely'
import type { Role } from '../accounts/types.js'
import type { Executor } from './executor.js'
import type { InvitationTable } from './schema.js'
import { normalizeEmail } from './users.js'

export interface InvitationRow {
  id: string
  teamId: number
  email: string
  role: Role
  invitedBy: number | null
  createdAt: number
  expiresAt: number
  acceptedAt: number | null
  cancelledAt: number | null
}

export interface NewInvitationRow {
  id: string
  tokenHash: string
  teamId: number
  email: string
  role: Role
  invitedBy: number | null
  now: number
  expiresAt: number
}

function toInvitation(row: Selectable<InvitationTable>): InvitationRow {
  return {
    id: row.id,
    teamId: Number(row.team_id),
    email: row.email,
    role: row.role,
    invitedBy: row.invited_by === null ? null : Number(row.invited_by),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    acceptedAt: row.accepted_at === null ? null : Number(row.accepted_at),
    cancelledAt: row.cancelled_at === null ? null : Number(row.cancelled_at),
  }
}

export async function insertInvitation(db: Executor, invitation: NewInvitationRow): Promise<void> {
  await db
    .insertInto('invitations')
    .values({
      id: invitation.id,
      token_hash: invitation.tokenHash,
      team_id: invitation.teamId,
      email: invitation.email.trim(),
      email_normalized: normalizeEmail(invitation.email),
      role: invitation.role,
      invited_by: invitation.invitedBy,
      form_token_hash: null,
      form_expires_at: null,
      created_at: invitation.now,
      expires_at: invitation.expiresAt,
      accepted_at: null,
      cancelled_at: null,
    })
    .execute()
}

export async function findInvitationByToken(db: Executor, tokenHash: string): Promise<InvitationRow | undefined> {
  const row = await db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
  return row && toInvitation(row)
}

/** The invitation a live form token was exchanged for. */
export async function findInvitationByForm(db: Executor, formTokenHash: string, now: number): Promise<InvitationRow | undefined> {
  const row = await db.selectFrom('invitations').selectAll().where('form_token_hash', '=', formTokenHash).where('form_expires_at', '>', now).executeTakeFirst()
  return row && toInvitation(row)
}

/** Binds a new form token to the invitation; the one bound before stops working. */
export async function setInvitationFormToken(db: Executor, id: string, formTokenHash: string, formExpiresAt: number): Promise<void> {
  await db.updateTable('invitations').set({ form_token_hash: formTokenHash, form_expires_at: formExpiresAt }).where('id', '=', id).execute()
}

export async function findTeamInvitation(db: Executor, teamId: number, id: string): Promise<InvitationRow | undefined> {
  const row = await db.selectFrom('invitations').selectAll().where('id', '=', id).where('team_id', '=', teamId).executeTakeFirst()
  return row && toInvitation(row)
}

/** Invitations neither accepted nor cancelled, expired ones too (they can be sent again). */
export async function listOpenInvitations(db: Executor, teamId: number): Promise<InvitationRow[]> {
  const rows = await db
    .selectFrom('invitations')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('accepted_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute()
  return rows.map(toInvitation)
}

/** An open invitation of the team to this address, if there is one. */
export async function findOpenInvitationTo(db: Executor, teamId: number, email: string): Promise<InvitationRow | undefined> {
  const row = await db
    .selectFrom('invitations')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('email_normalized', '=', normalizeEmail(email))
    .where('accepted_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .executeTakeFirst()
  return row && toInvitation(row)
}

/** A new token and a new validity for an open invitation: the link sent before stops working. */
export async function renewInvitation(db: Executor, teamId: number, id: string, tokenHash: string, now: number, expiresAt: number): Promise<boolean> {
  const result = await db
    .updateTable('invitations')
    .set({ token_hash: tokenHash, created_at: now, expires_at: expiresAt, form_token_hash: null, form_expires_at: null })
    .where('id', '=', id)
    .where('team_id', '=', teamId)
    .where('accepted_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Closes an open invitation: true for exactly one caller however many race. */
async function closeInvitation(db: Executor, id: string, column: 'accepted_at' | 'cancelled_at', now: number): Promise<boolean> {
  const result = await db
    .updateTable('invitations')
    .set({ [column]: now, form_token_hash: null, form_expires_at: null })
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export function markInvitationAccepted(db: Executor, id: string, now: number): Promise<boolean> {
  return closeInvitation(db, id, 'accepted_at', now)
}

export function markInvitationCancelled(db: Executor, id: string, now: number): Promise<boolean> {
  return closeInvitation(db, id, 'cancelled_at', now)
}
