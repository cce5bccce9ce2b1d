import { createPrivateKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import { open, seal } from '../crypto/secret-box.js'
import type { Db } from '../db/connection.js'
import { insertSigningKey, listLiveSigningKeys, retireSigningKeysExcept } from '../db/signing-keys.js'
import type { Config } from '../config.js'
import { DEFAULT_ID_TOKEN_ALGORITHM, idTokenAlgorithms, isSigningAlgorithm, type SigningAlgorithm } from './algorithms.js'

/**
 * How long a process may go on signing with a key another process retired:
 * the most its key ring waits before re-reading the keys. A retired key stays
 * published this much longer than the access-token lifetime.
 */
export const KEY_REFRESH_MS = 5_000

/** Back-Channel Logout 1.0 §2.4: a logout token is short-lived; a retired key must still verify one signed just before. */
export const LOGOUT_TOKEN_TTL_SECONDS = 120

/** How long a token signed now may be checked (access, ID and logout tokens): a retired key stays published that long. */
export function signedTokenLifetimeMs(config: Pick<Config, 'accessTokenTtlSeconds' | 'idTokenTtlSeconds'>): number {
  return Math.max(config.accessTokenTtlSeconds, config.idTokenTtlSeconds, LOGOUT_TOKEN_TTL_SECONDS) * 1000
}

export interface SigningKey {
  kid: string
  alg: SigningAlgorithm
  privateKey: KeyObject
}

/** A published key: what verifies a token whose header names its `kid`, with the `alg` that header must name. */
export interface VerificationKey {
  alg: SigningAlgorithm
  publicKey: CryptoKey
}

interface LoadedKey {
  kid: string
  alg: SigningAlgorithm
  publicJwk: JWK
  publicKey: CryptoKey
  privateKeyEncrypted: string
  retiredAt: number | null
}

/** A new key pair for `alg`, as every signing key is made: RSA 2048, P-256 or Ed25519. */
export function generateSigningKeyPair(alg: SigningAlgorithm): Promise<{ publicKey: CryptoKey; privateKey: CryptoKey }> {
  return generateKeyPair(alg, { modulusLength: 2048, extractable: true })
}

/**
 * Makes a new key for `alg`; the private part is stored only encrypted under
 * GATEHOUSE_SECRET.
 */
export async function createSigningKey(db: Db, encryptionKey: Buffer, alg: SigningAlgorithm, now: number): Promise<string> {
  const { publicKey, privateKey } = await generateSigningKeyPair(alg)
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  const publicJwk: JWK = { ...jwk, kid, alg, use: 'sig' }
  await insertSigningKey(db.kysely, {
    kid,
    algorithm: alg,
    publicJwk: JSON.stringify(publicJwk),
    privateKeyEncrypted: seal(encryptionKey, await exportPKCS8(privateKey)),
    createdAt: now,
  })
  return kid
}

/**
 * Makes a new signing key for `alg` and, when that is not RS256, one for
 * RS256 ID tokens beside it, and retires the others; their public keys stay
 * published while their tokens live. Returns the kid of the key for `alg`.
 */
export async function rotateSigningKey(db: Db, encryptionKey: Buffer, alg: SigningAlgorithm, now: number): Promise<string> {
  const kids = []
  for (const each of keptAlgorithms(alg)) kids.push(await createSigningKey(db, encryptionKey, each, now))
  await retireSigningKeysExcept(db.kysely, kids, now)
  return kids[0]!
}

/** GATEHOUSE_SIGNING_ALG for access tokens first, then what else ID tokens may need. */
function keptAlgorithms(configured: SigningAlgorithm): SigningAlgorithm[] {
  return [...new Set([configured, ...idTokenAlgorithms(configured)])]
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
  private readonly privateKeys = new Map<string, KeyObject>()

  constructor(
    private readonly db: Db,
    private readonly encryptionKey: Buffer,
    /** GATEHOUSE_SIGNING_ALG: what new keys are made for. */
    private readonly algorithm: SigningAlgorithm,
    /** How long a retired key's tokens may live: the longest lifetime of a signed token, in ms. */
    private readonly retiredKeyLifetimeMs: number,
    private readonly clock: () => number,
    private readonly refreshMs = KEY_REFRESH_MS,
  ) {}

  /**
   * Loads the keys, making a signing key for each kept algorithm that has
   * none (the first start, or GATEHOUSE_SIGNING_ALG changed) and retiring
   * the signing keys of algorithms no longer kept: the old keys stay
   * published while their tokens live.
   */
  async init(): Promise<void> {
    await this.reload()
    const kept = keptAlgorithms(this.algorithm)
    const current = this.keys.filter((k) => k.retiredAt === null)
    if (kept.every((alg) => current.some((k) => k.alg === alg)) && current.every((k) => kept.includes(k.alg))) return
    const kids = []
    for (const alg of kept) {
      kids.push(current.find((k) => k.alg === alg)?.kid ?? (await createSigningKey(this.db, this.encryptionKey, alg, this.clock())))
    }
    await retireSigningKeysExcept(this.db.kysely, kids, this.clock())
    await this.reload()
  }

  /** Reads the keys from the database now, not when the refresh interval next comes round. */
  reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const rows = await listLiveSigningKeys(this.db.kysely, this.clock() - this.retiredKeyLifetimeMs - this.refreshMs)
        this.keys = await Promise.all(
          rows.map(async (row) => {
            const publicJwk = JSON.parse(row.publicJwk) as JWK
            if (!isSigningAlgorithm(row.algorithm)) throw new Error(`signing key ${row.kid} is for ${row.algorithm}, which this version cannot verify`)
            return {
              kid: row.kid,
              alg: row.algorithm,
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

  /**
   * The key that signs new tokens with `alg` (GATEHOUSE_SIGNING_ALG when left
   * out): the newest one not retired. An algorithm no longer kept (a client
   * registered for it before GATEHOUSE_SIGNING_ALG changed) gets RS256, the
   * one every relying party verifies (OpenID Connect Core §15.1).
   */
  async signingKey(alg: SigningAlgorithm = this.algorithm): Promise<SigningKey> {
    const keys = await this.fresh()
    const wanted = keptAlgorithms(this.algorithm).includes(alg) ? alg : DEFAULT_ID_TOKEN_ALGORITHM
    const ofAlg = keys.filter((k) => k.alg === wanted)
    const current = ofAlg.find((k) => k.retiredAt === null) ?? ofAlg[0]
    if (!current) throw new Error(`no ${wanted} signing key: run gatehouse migrate and start the server once`)
    let privateKey = this.privateKeys.get(current.kid)
    if (!privateKey) {
      // Only the keys still loaded are worth keeping imported.
      for (const kid of this.privateKeys.keys()) if (!keys.some((k) => k.kid === kid)) this.privateKeys.delete(kid)
      privateKey = createPrivateKey(open(this.encryptionKey, current.privateKeyEncrypted))
      this.privateKeys.set(current.kid, privateKey)
    }
    return { kid: current.kid, alg: current.alg, privateKey }
  }

  /** The public key for a `kid`, re-reading the database once when it is not known yet. */
  async verificationKey(kid: string): Promise<VerificationKey | undefined> {
    let key = (await this.fresh()).find((k) => k.kid === kid)
    // At most one re-read a second, so tokens with made-up kids cannot flood the database.
    if (!key && this.clock() - this.loadedAt > 1000) {
      await this.reload()
      key = this.keys.find((k) => k.kid === kid)
    }
    return key && { alg: key.alg, publicKey: key.publicKey }
  }

  /** The algorithms of the published keys, GATEHOUSE_SIGNING_ALG first: what an access token that still verifies may be signed with. */
  async algorithms(): Promise<SigningAlgorithm[]> {
    const keys = await this.fresh()
    return [...new Set([this.algorithm, ...keys.map((k) => k.alg)])]
  }

  /** What ID tokens may be signed with, RS256 first (Discovery 1.0 §3). */
  idTokenAlgorithms(): SigningAlgorithm[] {
    return idTokenAlgorithms(this.algorithm)
  }

  /** RFC 7517 JWK Set of every key that can still verify a live token. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.fresh()).map((k) => k.publicJwk) }
  }
}

/** A signing key as an operator sees it: never its private part. */
export interface PublishedSigningKey {
  kid: string
  alg: string
  createdAt: Date
  /** Null for a key that signs now; a retired key stays published while tokens it signed may live. */
  retiredAt: Date | null
}

export async function publishedSigningKeys(
  db: Db,
  config: Pick<Config, 'accessTokenTtlSeconds' | 'idTokenTtlSeconds'>,
  now: number,
): Promise<PublishedSigningKey[]> {
  const rows = await listLiveSigningKeys(db.kysely, now - signedTokenLifetimeMs(config) - KEY_REFRESH_MS)
  return rows.map((r) => ({ kid: r.kid, alg: r.algorithm, createdAt: new Date(r.createdAt), retiredAt: r.retiredAt === null ? null : new Date(r.retiredAt) }))
}
