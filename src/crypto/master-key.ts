import { hkdfSync, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const SECRET_FILE = 'secret.key'

/**
 * The operator's GATEHOUSE_SECRET, or the one generated into the data
 * directory on first start. Returns the secret and whether it was just made.
 */
export function loadOrCreateSecret(dataDir: string, fromEnv: string | undefined): { secret: string; created: boolean } {
  if (fromEnv !== undefined) return { secret: fromEnv, created: false }
  const path = join(dataDir, SECRET_FILE)
  if (existsSync(path)) return { secret: readFileSync(path, 'utf8').trim(), created: false }
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(path, secret + '\n', { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
  return { secret, created: true }
}

/** Separate keys for separate jobs, all derived from the one master secret (HKDF, RFC 5869). */
export interface Keys {
  /** Keys CSRF tokens to the session or pre-login cookie they belong to. */
  csrf: Buffer
  /** Encrypts secrets kept at rest (client secrets, private signing keys). */
  encryption: Buffer
  /** Keys the SHA-256 with which client secrets are checked. */
  clientSecret: Buffer
  /** Keys the hash of an admin API request kept with its Idempotency-Key (its body may hold a password). */
  idempotency: Buffer
  /** Keys the hashes of recovery codes: short enough that a bare hash would be guessed from a stolen database. */
  recoveryCode: Buffer
}

export function deriveKeys(secret: string): Keys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), info, 32))
  return {
    csrf: derive('gatehouse csrf'),
    encryption: derive('gatehouse encryption'),
    clientSecret: derive('gatehouse client secret'),
    idempotency: derive('gatehouse idempotency'),
    recoveryCode: derive('gatehouse recovery code'),
  }
}
