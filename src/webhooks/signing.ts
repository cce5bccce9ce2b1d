import { createHmac, randomBytes } from 'node:crypto'

/** Standard Webhooks: a secret is `whsec_` and the base64 of 24 to 64 random bytes. */
const SECRET_PREFIX = 'whsec_'

export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64')
}

/**
 * The headers of one attempt, per the Standard Webhooks specification:
 * `webhook-signature` is `v1,` and the base64 HMAC-SHA256, under the
 * secret's bytes, of `id.timestamp.body` (timestamp in seconds).
 */
export function signedHeaders(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` }
}
