import type { Config } from './config.js'
import type { Keys } from './crypto/master-key.js'
import type { Db } from './db/connection.js'

/** What every part of the running server shares, built once at start. */
export interface AppContext {
  config: Config
  db: Db
  keys: Keys
  /** Milliseconds since the epoch; replaced in tests that move time. */
  clock: () => number
}
