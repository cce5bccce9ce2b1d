import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

const VERSION = 'v1'

/** Encrypts a secret for storage (AES-256-GCM): `v1.iv.ciphertext.tag`, base64url parts. */
export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return [VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
}

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError'
}

/** Decrypts what `seal` made; a wrong key or altered data fails loudly. */
export function open(key: Buffer, sealed: string): string {
  const [version, iv, ciphertext, tag] = sealed.split('.')
  if (version !== VERSION || !iv || ciphertext === undefined || !tag) throw new SecretBoxError('unrecognised sealed value')
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
  } catch {
    throw new SecretBoxError('cannot decrypt: GATEHOUSE_SECRET differs from the one the value was sealed with')
  }
}
