import { SignJWT } from 'jose'
import type { Config } from '../config.js'
import { randomSecret } from '../crypto/random.js'
import type { Db } from '../db/connection.js'
import { takeSessionClients, type BackchannelTarget, type EndedSession } from '../db/sessions.js'
import type { KeyRing } from '../keys/signing-keys.js'
import type { Logger } from '../logger.js'

/** OpenID Connect Back-Channel Logout 1.0 §2.4. */
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'
/** §2.4: the token's `typ`, so it can never pass for an ID token or an access token. */
export const LOGOUT_TOKEN_TYPE = 'logout+jwt'
export const LOGOUT_TOKEN_TTL_S = 120

export interface BackchannelDeps {
  db: Db
  keyRing: KeyRing
  config: Pick<Config, 'issuer'>
  clock: () => number
  log: Logger
}

export interface DeliveryPolicy {
  /** How long one POST may take. */
  timeoutMs: number
  /** Waits between attempts; their number bounds the retries, their sum the time spent. */
  retryDelaysMs: number[]
}

export const DEFAULT_DELIVERY: DeliveryPolicy = { timeoutMs: 5_000, retryDelaysMs: [1_000, 5_000, 20_000] }

/** §2.4: a logout token names the session and the user, carries the logout event, and never a nonce. */
export async function signLogoutToken(deps: Pick<BackchannelDeps, 'keyRing' | 'config' | 'clock'>, target: BackchannelTarget): Promise<string> {
  const { kid, alg, privateKey } = await deps.keyRing.signingKey()
  const now = Math.floor(deps.clock() / 1000)
  return new SignJWT({ sid: target.sid, events: { [LOGOUT_EVENT]: {} } })
    .setProtectedHeader({ alg, typ: LOGOUT_TOKEN_TYPE, kid })
    .setIssuer(deps.config.issuer)
    .setAudience(target.clientId)
    .setSubject(String(target.userId))
    .setIssuedAt(now)
    .setExpirationTime(now + LOGOUT_TOKEN_TTL_S)
    .setJti(randomSecret(16))
    .sign(privateKey)
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })

/**
 * Tells the clients a session signed in to that it ended (logout, the user
 * disabled, the session revoked). It runs beside the request that ended the
 * session, never in its way: a client that is slow or down costs that
 * client's retries, bounded in number and time, and nothing else.
 */
export class BackchannelLogout {
  private readonly running = new Set<Promise<void>>()
  private readonly stopping = new AbortController()

  constructor(
    private readonly deps: BackchannelDeps,
    private readonly policy: DeliveryPolicy = DEFAULT_DELIVERY,
  ) {}

  /** Announces the ended sessions; returns at once. */
  sessionsEnded(ended: EndedSession[]): void {
    if (ended.length === 0) return
    const job = this.announce(ended).catch((err: unknown) => this.deps.log.warn({ err }, 'back-channel logout could not be sent'))
    this.running.add(job)
    void job.finally(() => this.running.delete(job))
  }

  /** Waits for the announcements under way (a command that ends sessions, before it exits). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running])
  }

  /** Stops retrying and waits for the attempts in flight (server shutdown). */
  async close(): Promise<void> {
    this.stopping.abort()
    await this.settled()
  }

  private async announce(ended: EndedSession[]): Promise<void> {
    const targets = await takeSessionClients(
      this.deps.db.kysely,
      ended.map((s) => s.sid),
    )
    await Promise.all(targets.map((target) => this.deliver(target)))
  }

  private async deliver(target: BackchannelTarget): Promise<void> {
    const token = await signLogoutToken(this.deps, target)
    const delays = [0, ...this.policy.retryDelaysMs]
    for (const [attempt, delay] of delays.entries()) {
      if (delay > 0) await sleep(delay, this.stopping.signal)
      if (this.stopping.signal.aborted && attempt > 0) break
      const outcome = await this.post(target.backchannelLogoutUri, token)
      // §2.8: 200 (or 204) means done; a 400 means the client refused this token, and sending it again changes nothing.
      if (outcome === 'done' || outcome === 'refused') return
    }
    this.deps.log.warn({ clientId: target.clientId }, 'back-channel logout not delivered; gave up')
  }

  private async post(uri: string, token: string): Promise<'done' | 'refused' | 'retry'> {
    try {
      const response = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.policy.timeoutMs),
      })
      await response.arrayBuffer().catch(() => undefined)
      if (response.ok) return 'done'
      return response.status === 400 ? 'refused' : 'retry'
    } catch {
      return 'retry'
    }
  }
}
