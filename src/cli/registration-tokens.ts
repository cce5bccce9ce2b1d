import { createRegistrationToken } from '../clients/registration/initial-tokens.js'
import { json, optional, print, UsageError, withDatabase, type Commands } from './command.js'

export const registrationTokenCommands: Commands = {
  'registration-tokens create': {
    usage: 'gatehouse registration-tokens create [--expires-in S] [--json]',
    options: { 'expires-in': { type: 'string' }, ...json },
    async run(values) {
      const raw = optional(values, 'expires-in') ?? '86400'
      if (!/^\d+$/.test(raw)) throw new UsageError(`--expires-in "${raw}" is not a number of seconds`)
      const { token, expiresAt } = await withDatabase((db) => createRegistrationToken(db, Number(raw), Date.now()))
      print(
        values,
        { registration_token: token, expires_at: expiresAt.toISOString() },
        `Initial access token for client registration (until ${expiresAt.toISOString()}):\n  ${token}\nIt is shown only once.`,
      )
    },
  },
}
