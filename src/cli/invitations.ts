import { invite } from '../accounts/invitations.js'
import { parseRole } from '../accounts/teams.js'
import { findTeamById, findTeamByName } from '../db/teams.js'
import type { Db } from '../db/connection.js'
import { Refusal } from '../messages.js'
import { json, optional, print, required, withContext, type Commands } from './command.js'

/** A team named by its id or its name; a name made of digits is looked up as a name when no team has that id. */
async function teamIdOf(db: Db, idOrName: string): Promise<number> {
  const trimmed = idOrName.trim()
  const byId = /^\d{1,15}$/.test(trimmed) ? await findTeamById(db.kysely, Number(trimmed)) : undefined
  const team = byId ?? (await findTeamByName(db.kysely, trimmed))
  if (!team) throw new Refusal('team_not_found', 404, trimmed)
  return team.id
}

export const invitationCommands: Commands = {
  'invitations create': {
    usage: 'gatehouse invitations create --team T --email E [--role owner|member] [--json]',
    options: { team: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, ...json },
    describe: {
      team: 'the team, by id or name',
      email: 'the address to invite; only it can accept',
      role: 'owner or member (default)',
      json: 'print the result as JSON',
    },
    async run(values) {
      const role = parseRole(optional(values, 'role'))
      const sent = await withContext(async (ctx) =>
        invite(
          { db: ctx.db, activity: ctx.activity, mail: ctx.mail, issuer: ctx.config.issuer, clock: ctx.clock },
          await teamIdOf(ctx.db, required(values, 'team')),
          required(values, 'email'),
          role,
          { user: null, address: null },
        ),
      )
      print(
        values,
        {
          id: sent.invitation.id,
          team: { id: sent.team.id, name: sent.team.name },
          email: sent.invitation.email,
          role: sent.invitation.role,
          link: sent.link,
          mailed: sent.mailed,
          expires_at: new Date(sent.invitation.expiresAt).toISOString(),
        },
        `Invited ${sent.invitation.email} to team "${sent.team.name}" as ${sent.invitation.role}${sent.mailed ? ' (mailed)' : ''}. ` +
          `The link works once, for 7 days:\n${sent.link}`,
      )
    },
  },
}
