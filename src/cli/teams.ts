import { addMember, parseRole, removeMember } from '../accounts/teams.js'
import { json, optional, print, required, withContext, withDatabase, type Commands } from './command.js'

export const teamCommands: Commands = {
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
