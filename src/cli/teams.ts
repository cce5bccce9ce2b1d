import { addMember, allTeams, createTeamOwnedBy, membersOf, parseRole, removeMember, teamByIdOrName } from '../accounts/teams.js'
import { json, optional, print, required, withContext, withDatabase, type Commands } from './command.js'

export const teamCommands: Commands = {
  'teams create': {
    usage: 'gatehouse teams create --name N --owner E [--json]',
    options: { name: { type: 'string' }, owner: { type: 'string' }, ...json },
    describe: { name: 'the team name, unique among teams', owner: 'e-mail address of the user who becomes its owner' },
    async run(values) {
      const name = required(values, 'name')
      const ownerEmail = required(values, 'owner')
      const { team, owner } = await withDatabase((db) => createTeamOwnedBy(db, name, ownerEmail, Date.now()))
      print(
        values,
        { id: team.id, name: team.name, owner: { id: owner.id, email: owner.email } },
        `Created team "${team.name}" (id ${team.id}), owned by ${owner.email}`,
      )
    },
  },

  'teams list': {
    usage: 'gatehouse teams list [--json]',
    options: { ...json },
    async run(values) {
      const teams = await withDatabase((db) => allTeams(db))
      print(
        values,
        teams.map(({ team, members }) => ({ id: team.id, name: team.name, members, created_at: team.createdAt.toISOString() })),
        teams.length === 0
          ? 'No teams'
          : teams.map(({ team, members }) => `${team.id}  ${team.name}  (${members} member${members === 1 ? '' : 's'})`).join('\n'),
      )
    },
  },

  'teams members': {
    usage: 'gatehouse teams members --team T [--json]',
    options: { team: { type: 'string' }, ...json },
    describe: { team: 'the team, by name or by id' },
    async run(values) {
      const given = required(values, 'team')
      const { team, members } = await withDatabase(async (db) => {
        const team = await teamByIdOrName(db, given)
        return { team, members: await membersOf(db, team.id) }
      })
      print(
        values,
        {
          team: { id: team.id, name: team.name },
          members: members.map(({ user, role }) => ({
            id: user.id,
            email: user.email,
            name: user.name,
            role,
            is_verified: user.isVerified,
            is_disabled: user.isDisabled,
          })),
        },
        members.length === 0
          ? `Team "${team.name}" has no members`
          : members.map(({ user, role }) => `${user.id}  ${user.email}  ${user.name}  ${role}${user.isDisabled ? '  (disabled)' : ''}`).join('\n'),
      )
    },
  },

  'teams add-member': {
    usage: 'gatehouse teams add-member --team T --email E [--role owner|member] [--json]',
    options: { team: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, ...json },
    async run(values) {
      const role = parseRole(optional(values, 'role'))
      const result = await withDatabase((db) => addMember(db, required(values, 'team'), required(values, 'email'), role, Date.now()))
      print(
        values,
        { team: { id: result.team.id, name: result.team.name }, user: { id: result.user.id, email: result.user.email }, role: result.role },
        `${result.user.email} is now ${result.role} of team "${result.team.name}"`,
      )
    },
  },

  'teams remove-member': {
    usage: 'gatehouse teams remove-member --team T --email E [--json]',
    options: { team: { type: 'string' }, email: { type: 'string' }, ...json },
    async run(values) {
      const { team, user, revoked } = await withContext(async (ctx) => {
        const result = await removeMember(ctx.db, required(values, 'team'), required(values, 'email'), Date.now())
        for (const event of result.activity) ctx.activity.record(event)
        return result
      })
      print(
        values,
        {
          team: { id: team.id, name: team.name },
          user: { id: user.id, email: user.email },
          revoked: { grants: revoked.grants, personal_access_tokens: revoked.personalAccessTokens },
        },
        `${user.email} is no longer a member of team "${team.name}": ${revoked.grants} app authorisation(s) with their tokens and ` +
          `${revoked.personalAccessTokens} personal access token(s) in the team revoked. Adding the user again restores none of them.`,
      )
    },
  },
}
