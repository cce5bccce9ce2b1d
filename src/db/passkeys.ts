import type { Executor } from './executor.js'

export interface PasskeyRow {
  id: string
  userId: number
  name: string
  credentialId: string
  /** The COSE public key, base64url. */
  publicKey: string
  signCount: number
  transports: string[]
}

export async function insertPasskeyFactor(
  db: Executor,
  passkey: { id: string; userId: number; name: string; credentialId: string; publicKey: string; signCount: number; transports: string[]; now: number },
): Promise<void> {
  await db
    .insertInto('user_factors')
    .values({
      id: passkey.id,
      user_id: passkey.userId,
      kind: 'passkey',
      name: passkey.name,
      secret_encrypted: null,
      last_used_step: null,
      credential_id: passkey.credentialId,
      public_key: passkey.publicKey,
      sign_count: passkey.signCount,
      transports: passkey.transports.join(' '),
      confirmed_at: passkey.now,
      created_at: passkey.now,
      last_used_at: null,
    })
    .execute()
}

const PASSKEY_COLUMNS = ['id', 'user_id', 'name', 'credential_id', 'public_key', 'sign_count', 'transports'] as const

function toPasskey(row: {
  id: string
  user_id: number
  name: string
  credential_id: string | null
  public_key: string | null
  sign_count: number | null
  transports: string | null
}): PasskeyRow {
  return {
    id: row.id,
    userId: Number(row.user_id),
    name: row.name,
    credentialId: row.credential_id ?? '',
    publicKey: row.public_key ?? '',
    signCount: Number(row.sign_count ?? 0),
    transports: (row.transports ?? '').split(' ').filter((t) => t !== ''),
  }
}

export async function listPasskeysOfUser(db: Executor, userId: number): Promise<PasskeyRow[]> {
  const rows = await db.selectFrom('user_factors').select(PASSKEY_COLUMNS).where('user_id', '=', userId).where('kind', '=', 'passkey').execute()
  return rows.map(toPasskey)
}

export async function findPasskeyByCredentialId(db: Executor, credentialId: string): Promise<PasskeyRow | undefined> {
  const row = await db
    .selectFrom('user_factors')
    .select(PASSKEY_COLUMNS)
    .where('kind', '=', 'passkey')
    .where('credential_id', '=', credentialId)
    .executeTakeFirst()
  return row && toPasskey(row)
}

/**
 * Records a use of the passkey with the authenticator's new signature
 * counter, unless another use got there first with a counter as high: one
 * statement, so a cloned authenticator replaying a count loses the race too.
 * Authenticators that keep no counter always report 0.
 */
export async function usePasskey(db: Executor, factorId: string, previousCount: number, newCount: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('user_factors')
    .set({ sign_count: newCount, last_used_at: now })
    .where('id', '=', factorId)
    .where('sign_count', '=', previousCount)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function insertWebauthnChallenge(
  db: Executor,
  challenge: { id: string; purpose: string; binding: string; userId: number | null; challenge: string; expiresAt: number; now: number },
): Promise<void> {
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<', challenge.now).execute()
  await db
    .insertInto('webauthn_challenges')
    .values({
      id: challenge.id,
      purpose: challenge.purpose,
      binding: challenge.binding,
      user_id: challenge.userId,
      challenge: challenge.challenge,
      expires_at: challenge.expiresAt,
    })
    .execute()
}

/** Takes the challenge out, once: of two requests answering it only one gets it. */
export async function takeWebauthnChallenge(
  db: Executor,
  id: string,
  purpose: string,
  binding: string,
): Promise<{ userId: number | null; challenge: string; expiresAt: number } | undefined> {
  const row = await db
    .deleteFrom('webauthn_challenges')
    .where('id', '=', id)
    .where('purpose', '=', purpose)
    .where('binding', '=', binding)
    .returning(['user_id', 'challenge', 'expires_at'])
    .executeTakeFirst()
  return row && { userId: row.user_id === null ? null : Number(row.user_id), challenge: row.challenge, expiresAt: Number(row.expires_at) }
}
