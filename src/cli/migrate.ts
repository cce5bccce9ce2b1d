import { loadConfig } from '../config.js'
import { migrateToLatest } from '../db/migrate.js'
import { connectDatabase } from '../server.js'
import { json, print, type Commands } from './command.js'

export const migrateCommand: Commands = {
  migrate: {
    usage: 'gatehouse migrate [--json]',
    options: json,
    async run(values) {
      const db = await connectDatabase(loadConfig())
      try {
        const applied = await migrateToLatest(db)
        print(values, { applied }, applied.length ? `Applied ${applied.join(', ')}` : 'The database is up to date')
      } finally {
        await db.close()
      }
    },
  },
}
