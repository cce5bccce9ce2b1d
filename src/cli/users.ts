import { text } from 'node:stream/consumers'
import { resetFactorsByOperator } from '../accounts/factors.js'
import { operatorResetLink, setPasswordByOperator } from '../accounts/password-reset.js'
import { createUser, setDisabled } from '../accounts/users.js'
import { json, optional, print, required, withContext, withDatabase, type Commands } from './command.js'

/** The password, from standard input: an argument would show in `ps` and the shell's history. */
async function passwordFromStdin(): Promise<string> {
  return (await text(process.stdin)).replace(/\r?\n$/, '')
}

export const userCommands: Commands = {
  'users create': {
    usage: 'gatehouse users create --email E --name N --password P [--team T] [--verified] [--json]',
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      password: { type: 'string' },
      team: { type: 'string' },
      verified: { type: 'boolean' },
      ...json,
    },
    describe: { verified: 'the operator vouches for the e-mail address; otherwise the user starts unverified' },
    async run(values) {
      const input = {
        email: required(values, 'email'),
        name: required(values, 'name'),
        password: required(values, 'password'),
        teamName: optional(values, 'team'),
        // Typing an address proves nothing about who reads its mail.
        isVerified: values.verified === true,
      }
      const { user, team } = await withDatabase((db) => createUser(db, input, Date.now()))
      print(
        values,
        { id: user.id, email: user.email, name: user.name, is_verified: user.isVerified, team: team ? { id: team.id, name: team.name } : null },
        `Created ${user.isVerified ? 'verified' : 'unverified'} user ${user.email} (id ${user.id})${team ? `, owner of team "${team.name}" (id ${team.id})` : ''}`,
      )
    },
  },

  'users disable': {
    usage: 'gatehouse users disable --email E [--json]',
    options: { email: { type: 'string' }, ...json },
    async run(values) {
      const { user, revoked } = await withContext(async (ctx) => {
        const result = await setDisabled(ctx.db, required(values, 'email'), true, Date.now(), (ended) => ctx.backchannel.sessionsEnded(ended))
        for (const event of result.activity) ctx.activity.record(event)
        await ctx.webhooks.userDisabled(result.user.id)
        // The apps its sessions signed in to are told before the command exits.
        await ctx.backchannel.settled()
        await ctx.webhooks.settled()
        return result
      })
      print(
        values,
        { id: user.id, email: user.email, is_disabled: true, revoked: { grants: revoked.grants, personal_access_tokens: revoked.personalAccessTokens } },
        `Disabled ${user.email}: ${revoked.grants} app authorisation(s) with their tokens and ${revoked.personalAccessTokens} personal access token(s) revoked. ` +
          'Enabling the user again restores none of them.',
      )
    },
  },

  'users enable': {
    usage: 'gatehouse users enable --email E [--json]',
    options: { email: { type: 'string' }, ...json },
    async run(values) {
      const { user } = await withDatabase((db) => setDisabled(db, required(values, 'email'), false, Date.now()))
      print(
        values,
        { id: user.id, email: user.email, is_disabled: false },
        `Enabled ${user.email}. Tokens revoked when the user was disabled stay revoked: the user authorises apps and creates personal access tokens again.`,
      )
    },
  },

  'users reset-link': {
    usage: 'gatehouse users reset-link --email E [--json]',
    options: { email: { type: 'string' }, ...json },
    async run(values) {
      const { user, link, expiresAt } = await withContext((ctx) => operatorResetLink(ctx, required(values, 'email')))
      print(
        values,
        { id: user.id, email: user.email, reset_link: link, expires_at: expiresAt.toISOString() },
        `One-time password reset link for ${user.email}, valid until ${expiresAt.toISOString()}:\n${link}`,
      )
    },
  },

  'users set-password': {
    usage: 'gatehouse users set-password --email E [--json] < password',
    options: { email: { type: 'string' }, ...json },
    async run(values) {
      const email = required(values, 'email')
      const password = await passwordFromStdin()
      const user = await withContext(async (ctx) => {
        const result = await setPasswordByOperator({ ...ctx, sessionsEnded: (ended) => ctx.backchannel.sessionsEnded(ended) }, email, password)
        await ctx.backchannel.settled()
        return result
      })
      print(values, { id: user.id, email: user.email, sessions_ended: true }, `Set the password of ${user.email}; every session of the user was signed out.`)
    },
  },

  'users mfa-reset': {
    usage: 'gatehouse users mfa-reset --email E [--json]',
    options: { email: { type: 'string' }, ...json },
    describe: { email: 'the user who lost their second factors: every one of them and every recovery code is removed' },
    async run(values) {
      const { user, removed } = await withContext((ctx) => resetFactorsByOperator(ctx, required(values, 'email')))
      print(
        values,
        { id: user.id, email: user.email, factors_removed: removed },
        `Removed ${removed} two-factor sign-in method(s) and the recovery codes of ${user.email}, who now signs in with the password alone and was told by mail.`,
      )
    },
  },
}
