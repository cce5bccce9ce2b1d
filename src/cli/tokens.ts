import { pruneExpired } from '../tokens/prune.js'
import { json, print, withContext, type Commands } from './command.js'

export const tokenCommands: Commands = {
  'tokens prune': {
    usage: 'gatehouse tokens prune [--json]',
    options: json,
    async run(values) {
      const counts = await withContext((ctx) => pruneExpired(ctx))
      print(
        values,
        { deleted: counts },
        `Deleted ${Object.entries(counts)
          .map(([what, n]) => `${n} ${what.replaceAll('_', ' ')}`)
          .join(', ')}`,
      )
    },
  },
}
