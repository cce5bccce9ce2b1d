import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose'
import { open, seal } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import { insertSigningKey, listLiveSigningKeys, retireSigningKeysExcept } from '../db/signing-keys.js'

export const SIGNING_ALGORITHM = 'RS256'

/**
 * How long a process may go on signing with a key another process retired:
 * the most its key ring waits before re-reading the keys. A retired key stays
 * published this much longer than the access-token lifetime.
 */
export const KEY_REFRESH_MS = 5_000

export interface SigningKey {
  kid: string
  privateKey: CryptoKey
}

interface LoadedKey {
  kid: string
  publicJwk: JWK
  publicKey: CryptoKey
  privateKeyEncrypted: string
  retiredAt: number | null
}

/** Makes a new RSA key; the private part is stored only encrypted under GATEHOUSE_SECRET. */
export async function createSigningKey(db: Db, encryptionKey: Buffer, now: number): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { modulusLength: 2048, extractable: true })
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  const publicJwk: JWK = { ...jwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' }
  await insertSigningKey(db.kysely, {
    kid,
    algorithm: SIGNING_ALGORITHM,
    publicJwk: JSON.stringify(publicJwk),
    privateKeyEncrypted: seal(encryptionKey, await exportPKCS8(privateKey)),
    createdAt: now,
  })
  return kid
}

/** Makes a new signing key and retires the others; their public keys stay published while their tokens live. */
export async function rotateSigningKey(db: Db, encryptionKey: Buffer, now: number): Promise<string> {
  const kid = await createSigningKey(db, encryptionKey, now)
  await retireSigningKeysExcept(db.kysely, kid, now)
  return kid
}

/**
 * The signing keys as this process sees them, re-read from the database at
 * most every `refreshMs` (and at once for an unknown `kid`), so a rotation
 * made by any process reaches every process.
 */
export class KeyRing {
  private keys: LoadedKey[] = []
  private loadedAt = -Infinity
  private loading: Promise<void> | undefined
  private signing: { kid: string; key: Promise<CryptoKey> } | undefined

  constructor(
    private readonly db: Db,
    private readonly encryptionKey: Buffer,
    /** How long a retired key's tokens may live: the access-token lifetime, in ms. */
    private readonly retiredKeyLifetimeMs: number,
    private readonly clock: () => number,
    private readonly refreshMs = KEY_REFRESH_MS,
  ) {}

  /** Loads the keys, creating the first one on an empty database. */
  async init(): Promise<void> {
    await this.reload()
    if (this.keys.every((k) => k.retiredAt !== null)) {
      await createSigningKey(this.db, this.encryptionKey, this.clock())
      await this.reload()
    }
  }

  /** Reads the keys from the database now, not when the refresh interval next comes round. */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const rows = await listLiveSigningKeys(this.db.kysely, this.clock() - this.retiredKeyLifetimeMs - this.refreshMs)
        this.keys = await Promise.all(
          rows.map(async (row) => {
            const publicJwk = JSON.parse(row.publicJwk) as JWK
            return {
              kid: row.kid,
              publicJwk,
              publicKey: (await importJWK(publicJwk, row.algorithm)) as CryptoKey,
              privateKeyEncrypted: row.privateKeyEncrypted,
              retiredAt: row.retiredAt,
            }
          }),
        )
        this.loadedAt = this.clock()
      } finally {
        this.loading = undefined
      }
    })()
    return this.loading
  }

  private async fresh(): Promise<LoadedKey[]> {
    if (this.clock() - this.loadedAt > this.refreshMs) await this.reload()
    return this.keys
  }

  /** The key that signs new tokens: the newest one not retired. */
  async signingKey(): Promise<SigningKey> {
    const keys = await this.fresh()
    const current = keys.find((k) => k.retiredAt === null) ?? keys[0]
    if (!current) throw new Error('no signing key: run gatehouse migrate and start the server once')
    if (this.signing?.kid !== current.kid) {
      this.signing = { kid: current.kid, key: importPKCS8(open(this.encryptionKey, current.privateKeyEncrypted), SIGNING_ALGORITHM) }
    }
    return { kid: current.kid, privateKey: await this.signing.key }
  }

  /** The public key for a `kid`, re-reading the database once when it is not known yet. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    let key = (await this.fresh()).find((k) => k.kid === kid)
    // At most one re-read a second, so tokens with made-up kids cannot flood the database.
    if (!key && this.clock() - this.loadedAt > 1000) {
      await this.reload()
      key = this.keys.find((k) => k.kid === kid)
    }
    return key?.publicKey
  }

  /** RFC 7517 JWK Set of every key that can still verify a live token. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.fresh()).map((k) => k.publicJwk) }
  }
}
