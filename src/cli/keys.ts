import { rotateSigningKey } from '../keys/signing-keys.js'
import { json, print, withContext, type Commands } from './command.js'

export const keyCommands: Commands = {
  'keys rotate': {
    usage: 'gatehouse keys rotate [--json]',
    options: json,
    async run(values) {
      const kid = await withContext((ctx) => rotateSigningKey(ctx.db, ctx.keys.encryption, ctx.config.signingAlg, Date.now()))
      print(values, { kid }, `New signing key ${kid}; older keys stay published until the tokens they signed expire`)
    },
  },
}
